package fs_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/internal/pagecache"
)

// TestPrefetch: Prefetch brings a file's pages into the page cache without
// a read, and never touches a file outside the tree through a symlink.
func TestPrefetch(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "root")
	must(t, os.Mkdir(root, 0o755))
	data := bytes.Repeat([]byte("prefetch"), 64<<10) // 512 KiB
	inside := filepath.Join(root, "a")
	outside := filepath.Join(base, "secret")
	must(t, os.WriteFile(inside, data, 0o644))
	must(t, os.WriteFile(outside, data, 0o644))
	must(t, os.Symlink(outside, filepath.Join(root, "link")))
	for _, p := range []string{inside, outside} {
		must(t, pagecache.Drop(p))
		in, total, err := pagecache.Resident(p)
		must(t, err)
		if in > total/4 {
			t.Skipf("the file system of %s keeps dropped pages (%d of %d cached; tmpfs?): nothing to observe", base, in, total)
		}
	}
	imp := newImporter(t, root)
	imp.Prefetch("/link", int64(len(data)))
	imp.Prefetch("/../secret", int64(len(data)))
	imp.Prefetch("/a", int64(len(data)))
	// The read-ahead runs in the background: wait for it, bounded.
	var in, total int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var err error
		in, total, err = pagecache.Resident(inside)
		must(t, err)
		if in == total {
			break
		}
	}
	if in != total {
		t.Errorf("after Prefetch, %d of %d pages of the file are cached", in, total)
	}
	if in, total, _ := pagecache.Resident(outside); in > total/4 {
		t.Errorf("Prefetch through a symlink or .. cached %d of %d pages of a file outside the tree", in, total)
	}
}
