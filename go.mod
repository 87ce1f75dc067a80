module github.com/plakar-gw/plakar-gw

go 1.26.8
