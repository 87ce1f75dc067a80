package fs

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropCache asks the kernel to forget the pages of a file just written and
// synced. An ingest writes as many bytes of packs as it reads; kept, they
// evict what the machine had cached and make every later page allocation
// find new memory. Measured on the 2-core VM, ingesting one 1 GiB file
// into a local folder: 2.9 s -> 2.0 s (system time 2.2 -> 1.0 s); 2 GiB
// of mixed files: about 4% faster. Readers of a pack just written (a
// gateway serving a new snapshot) then read it from disk once.
func dropCache(f *os.File) {
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED) // advice: a failure changes nothing
}

// fadviseWillNeed starts reading a range into the page cache.
func fadviseWillNeed(f *os.File, off, length int64) {
	unix.Fadvise(int(f.Fd()), off, length, unix.FADV_WILLNEED) // advice, as above
}
