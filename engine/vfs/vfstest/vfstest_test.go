package vfstest_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

func sample() *vfstest.Catalog {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	files := fstest.MapFS{
		"a/b.txt":    {Data: []byte("bee"), ModTime: t0},
		"a b/c":      {Data: []byte("sea"), ModTime: t0},
		"a.txt":      {Data: []byte("a dot"), ModTime: t0},
		"empty":      {Mode: fs.ModeDir | 0o755, ModTime: t0},
		"link":       {Mode: fs.ModeSymlink | 0o777, Data: []byte("a/b.txt")},
		"escape":     {Mode: fs.ModeSymlink | 0o777, Data: []byte("../../etc/passwd")},
		"bad/broken": {Data: []byte("0123456789"), ModTime: t0},
	}
	return vfstest.New(
		&vfstest.Snapshot{Info: vfstest.Info(1, "docs", t0), Files: files,
			Errors:  []vfs.PathError{{Path: "/a/gone", Message: "vanished"}},
			Corrupt: map[string]bool{"bad/broken": true}, CorruptAfter: 4},
		&vfstest.Snapshot{Info: vfstest.Info(2, "docs", t0.Add(time.Hour)), Files: fstest.MapFS{"x": {Data: []byte("x")}}},
	)
}

func TestFakeCatalog(t *testing.T) {
	c := sample()
	ctx := context.Background()
	snaps, err := c.Snapshots(ctx)
	if err != nil || len(snaps) != 2 || snaps[0].ID[:2] != "02" {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	latest, err := c.OpenSnapshot(ctx, "docs-latest")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(latest, "x"); err != nil {
		t.Errorf("docs-latest is not the newest: %v", err)
	}
	if _, err := c.OpenSnapshot(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("unknown snapshot: %v", err)
	}
	fsys, err := c.OpenSnapshot(ctx, vfstest.Info(1, "", time.Time{}).ID[:8])
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for e, err := range fsys.Walk(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
	}
	want := []string{"a b/", "a b/c", "a.txt", "a/", "a/b.txt", "bad/", "bad/broken", "empty/", "escape", "link"}
	if len(keys) != len(want) {
		t.Fatalf("walk %q, want %q", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("walk %q, want %q", keys, want)
		}
	}
	var after []string
	for e := range fsys.Walk(ctx, "a/") {
		after = append(after, e.Key)
	}
	if after[0] != "a/b.txt" {
		t.Errorf("walk after a/: %q", after)
	}
	if b, err := fs.ReadFile(fsys, "link"); err != nil || string(b) != "bee" {
		t.Errorf("link: %q %v", b, err)
	}
	if _, err := fs.ReadFile(fsys, "escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("escaping link: %v", err)
	}
	f, err := fsys.Open("bad/broken")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if !errors.Is(err, vfs.ErrCorrupt) || string(b) != "0123" {
		t.Errorf("corrupt read: %q %v", b, err)
	}
	sum, err := fsys.Summary(".")
	if err != nil || sum.Subtree.Files != 4 || sum.Self.Dirs != 4 || sum.Subtree.Errors != 1 || sum.Self.Symlinks != 2 {
		t.Errorf("summary %+v %v", sum, err)
	}
	st, err := fsys.Stat("a.txt")
	if err != nil || st.Sys().(*vfs.Sys).ETag == "" {
		t.Errorf("stat a.txt: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fs.ReadFile(fsys.WithContext(cctx), "a.txt"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled read: %v", err)
	}
}

func TestFakePassesTestFS(t *testing.T) {
	c := vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(3, "j", time.Now()), Files: fstest.MapFS{
		"a/b.txt": {Data: []byte("bee")}, "c": {Data: []byte("sea")}, "d": {Mode: fs.ModeDir | 0o755}}})
	fsys, err := c.OpenSnapshot(context.Background(), "j-latest")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "a/b.txt", "c", "d"); err != nil {
		t.Fatal(err)
	}
}
