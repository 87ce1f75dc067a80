package crypto

import "golang.org/x/sys/unix"

// populate maps b's pages writable in one call (Linux 5.14+).
func populate(b []byte) bool {
	return unix.Madvise(b, unix.MADV_POPULATE_WRITE) == nil
}
