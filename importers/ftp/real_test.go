package ftp_test

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/importers"
	ftpimporter "github.com/plakar-gw/plakar-gw/importers/ftp"
	"github.com/plakar-gw/plakar-gw/importers/importertest"
)

func TestRealConformance(t *testing.T) {
	s := realServer(t)
	dir, u := s.tree(t)
	fix := importertest.DefaultFixture()
	if err := importertest.Materialize(dir, fix); err != nil {
		t.Fatal(err)
	}
	importertest.Run(t, fix, open(t, ftpimporter.Config{URL: u, Concurrency: 3}))
}

func scanAll(t *testing.T, imp importers.Importer) map[string]importers.Record {
	t.Helper()
	out := map[string]importers.Record{}
	for rec, err := range imp.Scan(t.Context()) {
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		out[rec.Path] = rec
	}
	return out
}

// TestRealFaults: a symlink is recorded as a link; a file deleted between
// the listing and the read, and a file the server may not read, both fail
// Open with fs.ErrNotExist (the engine records them as per-path errors).
func TestRealFaults(t *testing.T) {
	s := realServer(t)
	dir, u := s.tree(t)
	for name, content := range map[string]string{"keep.txt": "keep\n", "gone.txt": "gone\n", "locked.txt": "locked\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(dir, "locked.txt"), 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("keep.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	imp := open(t, ftpimporter.Config{URL: u})
	recs := scanAll(t, imp)
	if l := recs["/link"]; l.Mode.Type() != iofs.ModeSymlink || l.Target != "keep.txt" {
		t.Errorf("/link: mode %v target %q; want a symlink to keep.txt", l.Mode, l.Target)
	}
	if k := recs["/keep.txt"]; !k.Mode.IsRegular() || k.Size != 5 || k.ModTime.Unix() != mtime(t, filepath.Join(dir, "keep.txt")) {
		t.Errorf("/keep.txt: %+v; want a 5-byte file with the exact mtime (MDTM)", k)
	}
	if err := os.Remove(filepath.Join(dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/gone.txt", "/locked.txt"} {
		rc, err := imp.Open(t.Context(), p)
		if err == nil {
			rc.Close()
			t.Errorf("Open(%s) succeeded", p)
		} else if !errors.Is(err, iofs.ErrNotExist) {
			t.Errorf("Open(%s) = %v; want fs.ErrNotExist", p, err)
		}
	}
	rc, err := imp.Open(t.Context(), "/keep.txt") // the pool still works
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, err := io.ReadAll(rc); err != nil || string(b) != "keep\n" {
		t.Errorf("keep.txt: %q, %v", b, err)
	}
}

func mtime(t *testing.T, name string) int64 {
	fi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().Unix()
}

// TestRealOriginHidesPassword: the password from the URL reaches the
// server (the login works) and never the origin.
func TestRealOriginHidesPassword(t *testing.T) {
	s := realServer(t)
	_, u := s.tree(t)
	imp := open(t, ftpimporter.Config{URL: u})
	if pw := passwordOf(u); pw != "" && strings.Contains(imp.Origin(), pw) {
		t.Errorf("Origin() %q holds the password", imp.Origin())
	}
}
