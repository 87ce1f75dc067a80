package dav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

// TestROFS: the webdav.FileSystem refuses every write and shows what the
// PROPFIND listing shows.
func TestROFS(t *testing.T) {
	mt := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	cat := vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(7, "j", mt), Files: fstest.MapFS{
		"a.txt":    {Data: []byte("abc"), ModTime: mt},
		"d/b":      {Data: []byte("b"), ModTime: mt},
		"fifo":     {Mode: fs.ModeNamedPipe},
		"link":     {Data: []byte("a.txt"), Mode: fs.ModeSymlink},
		"dangling": {Data: []byte("nope"), Mode: fs.ModeSymlink},
	}})
	f := roFS{newTree(cat, time.Second)}
	ctx := context.Background()
	for _, flag := range []int{os.O_WRONLY, os.O_RDWR, os.O_CREATE, os.O_TRUNC, os.O_APPEND, os.O_RDONLY | os.O_CREATE | os.O_EXCL} {
		if _, err := f.OpenFile(ctx, "/j-latest/a.txt", flag, 0o644); !errors.Is(err, os.ErrPermission) {
			t.Errorf("OpenFile flag %#x: %v", flag, err)
		}
	}
	if err := f.Mkdir(ctx, "/j-latest/new", 0o755); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Mkdir: %v", err)
	}
	if err := f.RemoveAll(ctx, "/j-latest/a.txt"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("RemoveAll: %v", err)
	}
	if err := f.Rename(ctx, "/j-latest/a.txt", "/j-latest/b.txt"); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Rename: %v", err)
	}
	file, err := f.OpenFile(ctx, "/j-latest/a.txt", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := file.Write([]byte("x")); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Write: %v", err)
	}
	data, err := io.ReadAll(file)
	if err != nil || string(data) != "abc" {
		t.Errorf("read %q, %v", data, err)
	}
	file.Close()
	if fi, err := f.Stat(ctx, "/j-latest/d"); err != nil || !fi.IsDir() {
		t.Errorf("Stat dir: %v %v", fi, err)
	}
	for _, p := range []string{"/j-latest/../x", "/j-latest/fifo", "/j-latest/dangling", "/nope"} {
		if _, err := f.Stat(ctx, p); err == nil {
			t.Errorf("Stat %s succeeded", p)
		}
	}
	dir, err := f.OpenFile(ctx, "/j-latest/", os.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	fis, err := dir.Readdir(0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range fis {
		names = append(names, fi.Name())
	}
	sort.Strings(names)
	if want := "[a.txt d link]"; fmt.Sprint(names) != want {
		t.Errorf("Readdir: %v, want %s", names, want)
	}
}
