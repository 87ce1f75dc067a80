// Package plugin is the host side of importer plugins: separate programs,
// in any language, that serve the Importer service of importer.proto over
// gRPC on a Unix socket. It owns finding plugins (Discover, with a cache
// so that startup does not launch every plugin), launching one process per
// importer with a handshake, forwarding its stderr to the log, checking
// everything it sends (protocol version, record fields, path order), idle
// timeouts, and killing the process when the importer is closed, its
// context ends, or plakar-gw dies.
//
// Plugins written in Go use the sdk package; the example under
// example/tar is a complete one.
package plugin

//go:generate sh -c "cd ../.. && protoc --go_out=. --go_opt=module=github.com/plakar-gw/plakar-gw --go-grpc_out=. --go-grpc_opt=module=github.com/plakar-gw/plakar-gw importers/plugin/importer.proto"
