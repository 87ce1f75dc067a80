package fs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// resident counts the pages of a file that are in the page cache.
func resident(t *testing.T, path string) (in, total int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	for _, v := range vec {
		in += int(v & 1)
	}
	return in, len(vec)
}

// TestPackPagesLeaveTheCache: a pack written and synced leaves the page
// cache (an ingest must not evict the machine's cache with its output);
// other objects stay.
func TestPackPagesLeaveTheCache(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	ctx := context.Background()
	data := bytes.Repeat([]byte("0123456789abcdef"), 256<<10) // 4 MiB
	name := "aa" + string(bytes.Repeat([]byte("0"), 62))
	if err := s.Put(ctx, storage.KindPack, name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, storage.KindIndex, name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	var pack string
	filepath.WalkDir(filepath.Join(root, "packs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			pack = p
		}
		return nil
	})
	if in, total := resident(t, pack); in > total/4 {
		t.Errorf("pack: %d of %d pages still cached", in, total)
	}
	if in, total := resident(t, filepath.Join(root, "index", name)); in < total/2 {
		t.Errorf("index delta: only %d of %d pages cached (only packs are dropped)", in, total)
	}
}
