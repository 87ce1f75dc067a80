//go:build linux

// Package pagecache lets tests see which pages of a file the kernel holds in
// its page cache, to check code that reads ahead or drops pages on purpose.
package pagecache

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Resident counts the pages of the file at path that are in the page cache.
func Resident(path string) (in, total int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return 0, 0, err
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return 0, 0, err
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		return 0, 0, errno
	}
	for _, v := range vec {
		in += int(v & 1)
	}
	return in, len(vec), nil
}

// Drop asks the kernel to evict the file's clean pages (after an fsync, all
// of them on a disk file system; tmpfs keeps them).
func Drop(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
