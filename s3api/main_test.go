package s3api

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// Small, odd-sized stripes: the striped read-ahead and its edges run
	// in every GET test, not only on files of many MiB.
	stripeSize = 100_003
	os.Exit(m.Run())
}
