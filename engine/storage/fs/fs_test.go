package fs_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/storage/storagetest"
)

func open(t *testing.T, root string) *fs.Store {
	t.Helper()
	s, err := fs.New(context.Background(), fs.Config{Path: root})
	if err != nil {
		t.Fatalf("New(%s): %v", root, err)
	}
	return s
}

func put(t *testing.T, s *fs.Store, kind storage.Kind, name, data string) {
	t.Helper()
	if err := s.Put(context.Background(), kind, name, strings.NewReader(data)); err != nil {
		t.Fatalf("Put(%s, %s): %v", kind, name, err)
	}
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return open(t, t.TempDir()) })
}

func TestLayout(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo") // New creates it, so it gets 0700
	s := open(t, root)
	put(t, s, storage.KindPack, "abcdef01", "pack")
	put(t, s, storage.KindPack, "..odd", "odd pack")
	put(t, s, storage.KindConfig, "config", "cfg")
	put(t, s, storage.KindIndex, "i1", "idx")
	put(t, s, storage.KindSnapshot, "s1", "snap")
	put(t, s, storage.KindLock, "l1", "lock")
	files := []string{
		"packs/ab/abcdef01", "packs/_/..odd", "config/config",
		"index/i1", "snapshots/s1", "locks/l1",
	}
	for _, f := range files {
		wantMode(t, filepath.Join(root, f), 0o600)
	}
	for _, d := range []string{"", "config", "packs", "packs/ab", "packs/_", "index", "snapshots", "locks", "tmp"} {
		wantMode(t, filepath.Join(root, d), os.ModeDir|0o700)
	}
}

// wantMode checks the permission bits, allowing a umask to remove some.
func wantMode(t *testing.T, path string, max os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("expected %s: %v", path, err)
	}
	if info.Mode()&^max != 0 || info.Mode()&0o600 != 0o600 {
		t.Errorf("%s has mode %v, want %v", path, info.Mode(), max)
	}
}

func tmpEntries(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

type brokenReader struct{ n int }

func (b *brokenReader) Read(p []byte) (int, error) {
	if b.n > 0 {
		b.n--
		return len(p), nil
	}
	return 0, errors.New("broken")
}

func TestFailedPutLeavesNoTemp(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	if err := s.Put(context.Background(), storage.KindPack, "ab01", &brokenReader{n: 3}); err == nil {
		t.Fatal("Put with broken reader succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Put(ctx, storage.KindIndex, "i1", strings.NewReader("x")); err == nil {
		t.Fatal("Put with cancelled context succeeded")
	}
	if left := tmpEntries(t, root); len(left) != 0 {
		t.Fatalf("tmp/ holds %q after failed Puts", left)
	}
	put(t, s, storage.KindIndex, "ok", "fine")
	if left := tmpEntries(t, root); len(left) != 0 {
		t.Fatalf("tmp/ holds %q after a successful Put", left)
	}
}

func TestPutReplacesFile(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	put(t, s, storage.KindPack, "cafe", "first version, longer")
	put(t, s, storage.KindPack, "cafe", "second")
	b, err := os.ReadFile(filepath.Join(root, "packs", "ca", "cafe"))
	if err != nil || string(b) != "second" {
		t.Fatalf("file holds %q, %v; want %q", b, err, "second")
	}
	entries, _ := os.ReadDir(filepath.Join(root, "packs", "ca"))
	if len(entries) != 1 {
		t.Fatalf("packs/ca holds %d entries, want 1", len(entries))
	}
}

func TestReopenKeepsObjects(t *testing.T) {
	root := t.TempDir()
	put(t, open(t, root), storage.KindSnapshot, "s1", "kept")
	s := open(t, root)
	rc, err := s.Get(context.Background(), storage.KindSnapshot, "s1", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "kept" {
		t.Fatalf("after reopen Get = %q", b)
	}
	if s.Location() != root {
		t.Fatalf("Location = %q, want %q", s.Location(), root)
	}
}

func TestNewCleansStaleTemps(t *testing.T) {
	root := t.TempDir()
	open(t, root)
	stale, fresh := filepath.Join(root, "tmp", "put-stale"), filepath.Join(root, "tmp", "put-fresh")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	open(t, root)
	if got := tmpEntries(t, root); !slices.Equal(got, []string{"put-fresh"}) {
		t.Fatalf("tmp/ holds %q, want only the fresh temp file", got)
	}
}

// TestListSkipsForeignEntries: files that this store did not write, or
// cannot reach with Get, must not be listed.
func TestListSkipsForeignEntries(t *testing.T) {
	root := t.TempDir()
	s := open(t, root)
	put(t, s, storage.KindPack, "ab01", "p")
	mustMkdir(t, filepath.Join(root, "packs", "zz"))
	mustWrite(t, filepath.Join(root, "packs", "zz", "zz01"))   // not a shard folder
	mustWrite(t, filepath.Join(root, "packs", "ab", "cd02"))   // wrong shard
	mustWrite(t, filepath.Join(root, "packs", "loose"))        // not in a shard
	mustMkdir(t, filepath.Join(root, "index", "subdir"))       // a folder
	mustWrite(t, filepath.Join(root, "index", "subdir", "i9")) // nested
	for kind, want := range map[storage.Kind][]string{storage.KindPack: {"ab01"}, storage.KindIndex: nil} {
		var got []string
		for name, err := range s.List(context.Background(), kind) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
		}
		if !slices.Equal(got, want) {
			t.Errorf("List(%s) = %q, want %q", kind, got, want)
		}
	}
	if _, err := s.Stat(context.Background(), storage.KindIndex, "subdir"); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat of a folder error = %v, want ErrNotExist", err)
	}
	if _, err := s.Get(context.Background(), storage.KindIndex, "subdir", 0, -1); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Get of a folder error = %v, want ErrNotExist", err)
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsEmptyPath(t *testing.T) {
	if _, err := fs.New(context.Background(), fs.Config{}); err == nil {
		t.Fatal("New with empty path succeeded")
	}
}

func TestMissingWrapsBothErrors(t *testing.T) {
	s := open(t, t.TempDir())
	_, err := s.Stat(context.Background(), storage.KindIndex, "nope")
	if !errors.Is(err, storage.ErrNotExist) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stat of missing object error = %v, want ErrNotExist from storage and os", err)
	}
}
