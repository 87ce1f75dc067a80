package fs_test

import (
	"context"
	"errors"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
	"github.com/plakar-gw/plakar-gw/importers/importertest"
)

func newImporter(t testing.TB, root string) *fsimporter.Importer {
	t.Helper()
	imp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: root})
	if err != nil {
		t.Fatalf("New(%q): %v", root, err)
	}
	t.Cleanup(func() { imp.Close() })
	return imp
}

// scan collects a whole scan, failing on a scan-ending error.
func scan(t testing.TB, imp *fsimporter.Importer) []importers.Record {
	t.Helper()
	var recs []importers.Record
	for rec, err := range imp.Scan(context.Background()) {
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func byPath(recs []importers.Record) map[string]importers.Record {
	m := make(map[string]importers.Record, len(recs))
	for _, r := range recs {
		m[r.Path] = r
	}
	return m
}

func pathsOf(recs []importers.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Path)
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	root := t.TempDir()
	fix := importertest.DefaultFixture()
	must(t, importertest.Materialize(root, fix))
	importertest.Run(t, fix, newImporter(t, root))
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, root := range []string{"", filepath.Join(dir, "missing"), file} {
		if imp, err := fsimporter.New(t.Context(), fsimporter.Config{Root: root}); err == nil {
			imp.Close()
			t.Errorf("New(%q) succeeded; want an error", root)
		}
	}
}

func TestNewRelativeRoot(t *testing.T) {
	dir := t.TempDir()
	must(t, os.Mkdir(filepath.Join(dir, "x"), 0o755))
	t.Chdir(dir)
	imp := newImporter(t, "./x/../x/")
	if got, want := imp.Origin(), filepath.Join(dir, "x"); got != want {
		t.Errorf("Origin() = %q, want %q", got, want)
	}
	if imp.Type() != "fs" {
		t.Errorf("Type() = %q", imp.Type())
	}
}

// The root may be a symlink (the user named it); nothing below it is followed.
func TestSymlinkRoot(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "real", "sub"), 0o755))
	must(t, os.Symlink("real", filepath.Join(dir, "link")))
	got := pathsOf(scan(t, newImporter(t, filepath.Join(dir, "link"))))
	if want := []string{"/", "/sub"}; !slices.Equal(got, want) {
		t.Errorf("paths = %q, want %q", got, want)
	}
}

// Siblings sort by name bytes, and a directory's subtree stays contiguous,
// even where full-path byte order would interleave ("/a b" < "/a/x").
func TestSiblingOrder(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"a/x", "a b", "a.txt", "a0", "B", "\u00e9", "e\u0301", "_"} {
		must(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755))
		must(t, os.WriteFile(filepath.Join(root, p), nil, 0o644))
	}
	got := pathsOf(scan(t, newImporter(t, root)))
	want := []string{"/", "/B", "/_", "/a", "/a/x", "/a b", "/a.txt", "/a0", "/e\u0301", "/\u00e9"}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
}

func TestOpenRejects(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "d"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "d", "f"), []byte("x"), 0o644))
	must(t, os.Symlink("d/f", filepath.Join(root, "link")))
	must(t, os.Symlink("d", filepath.Join(root, "dirlink")))
	must(t, os.Symlink("/etc", filepath.Join(root, "etc")))
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	imp := newImporter(t, root)

	invalid := []string{"d/f", "/d/../d/f", "/d//f", "/d/f/", "/", "/d", "/fifo"}
	for _, p := range invalid {
		if _, err := imp.Open(t.Context(), p); !errors.Is(err, iofs.ErrInvalid) {
			t.Errorf("Open(%q) = %v; want fs.ErrInvalid", p, err)
		}
	}
	// Symlinks are refused wherever they are, even pointing inside the tree.
	for _, p := range []string{"/link", "/dirlink/f", "/etc/passwd"} {
		if rc, err := imp.Open(t.Context(), p); err == nil {
			rc.Close()
			t.Errorf("Open(%q) followed a symlink", p)
		}
	}
}

func TestClose(t *testing.T) {
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "f"), nil, 0o644))
	imp, err := fsimporter.New(t.Context(), fsimporter.Config{Root: root})
	must(t, err)
	must(t, imp.Close())
	must(t, imp.Close())
	if _, err := imp.Open(t.Context(), "/f"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Open after Close = %v; want os.ErrClosed", err)
	}
	for _, err := range imp.Scan(t.Context()) {
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("Scan after Close = %v; want os.ErrClosed", err)
		}
	}
}

// Scan reads one directory at a time: a name listed in the current
// directory but deleted before its turn becomes an error record, and an
// entry deleted from a directory not read yet simply does not appear.
func TestVanishedDuringScan(t *testing.T) {
	root := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(root, "b"), 0o755))
	for _, p := range []string{"a", "b/x", "c"} {
		must(t, os.WriteFile(filepath.Join(root, p), nil, 0o644))
	}
	var recs []importers.Record
	for rec, err := range newImporter(t, root).Scan(t.Context()) {
		must(t, err)
		recs = append(recs, rec)
		if rec.Path == "/a" {
			must(t, os.Remove(filepath.Join(root, "c")))
			must(t, os.Remove(filepath.Join(root, "b", "x")))
		}
	}
	if got, want := pathsOf(recs), []string{"/", "/a", "/b", "/c"}; !slices.Equal(got, want) {
		t.Fatalf("paths = %q, want %q", got, want)
	}
	if err := recs[3].Err; !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("/c: Err = %v; want fs.ErrNotExist", err)
	}
	for _, r := range recs[:3] {
		if r.Err != nil {
			t.Errorf("%s: unexpected Err %v", r.Path, r.Err)
		}
	}
}
