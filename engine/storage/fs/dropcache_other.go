//go:build !linux

package fs

import "os"

// dropCache is a no-op where posix_fadvise is not offered.
func dropCache(*os.File) {}

// fadviseWillNeed is a no-op where posix_fadvise is not offered.
func fadviseWillNeed(*os.File, int64, int64) {}
