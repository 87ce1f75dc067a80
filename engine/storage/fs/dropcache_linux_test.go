package fs_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/internal/pagecache"
)

func resident(t *testing.T, path string) (in, total int) {
	t.Helper()
	in, total, err := pagecache.Resident(path)
	if err != nil {
		t.Fatal(err)
	}
	return in, total
}

// putPack puts a 4 MiB pack and returns its name, bytes and file.
func putPack(t *testing.T, s *fs.Store, root string) (name string, data []byte, file string) {
	t.Helper()
	data = bytes.Repeat([]byte("0123456789abcdef"), 256<<10)
	name = "aa" + string(bytes.Repeat([]byte("0"), 62))
	if err := s.Put(context.Background(), storage.KindPack, name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(filepath.Join(root, "packs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			file = p
		}
		return nil
	})
	return name, data, file
}

// TestPackPagesLeaveTheCache: a pack written and synced leaves the page
// cache (an ingest must not evict the machine's cache with its output);
// other objects stay.
func TestPackPagesLeaveTheCache(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	name, data, pack := putPack(t, s, root)
	if err := s.Put(context.Background(), storage.KindIndex, name, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if in, total := resident(t, pack); in > total/4 {
		t.Errorf("pack: %d of %d pages still cached", in, total)
	}
	if in, total := resident(t, filepath.Join(root, "index", name)); in < total/2 {
		t.Errorf("index delta: only %d of %d pages cached (only packs are dropped)", in, total)
	}
}

// TestPrefetchReadsAhead: Prefetch brings the range of a pack whose pages
// were dropped back into the page cache, without a read.
func TestPrefetchReadsAhead(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	name, _, pack := putPack(t, s, root)
	if in, total := resident(t, pack); in > total/4 {
		t.Skipf("this file system keeps dropped pages (%d of %d cached): nothing to observe", in, total)
	}
	s.Prefetch(storage.KindPack, name, 1<<20, 2<<20)
	var in int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if in, _ = resident(t, pack); in >= 512 {
			break
		}
	}
	if in < 512 {
		t.Fatalf("%d pages cached after prefetching 2 MiB (512 pages)", in)
	}
	s.Prefetch(storage.KindPack, "../../escape", 0, 1<<20) // refused by name, no panic
}
