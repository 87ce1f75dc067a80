package main

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/importertest"
)

// writeFixture writes fix as a tar archive, gzipped when gz is set.
func writeFixture(t *testing.T, fix importertest.Fixture, gz bool) string {
	t.Helper()
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	tw := tar.NewWriter(w)
	mt := time.Unix(1700000000, 0)
	for _, d := range fix.Dirs {
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: 0o755, ModTime: mt}))
	}
	for _, p := range slices.Sorted(maps.Keys(fix.Files)) {
		c := fix.Files[p]
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "./" + strings.TrimPrefix(p, "/"), Mode: 0o644, Size: int64(len(c)), ModTime: mt}))
		_, err := io.WriteString(tw, c)
		must(t, err)
	}
	must(t, tw.Close())
	if zw != nil {
		must(t, zw.Close())
	}
	name := filepath.Join(t.TempDir(), "fixture.tar")
	if gz {
		name += ".gz"
	}
	must(t, os.WriteFile(name, buf.Bytes(), 0o644))
	return name
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestConformance(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "tar", true: "tar.gz"}[gz], func(t *testing.T) {
			fix := importertest.DefaultFixture()
			imp, err := New(t.Context(), Config{Location: "tar://" + writeFixture(t, fix, gz)})
			if err != nil {
				t.Fatal(err)
			}
			defer imp.Close()
			importertest.Run(t, fix, imp)
		})
	}
}

// TestHardlinksAndEscapes: hardlinks share an inode and content; a member
// climbing out of the root refuses the archive.
func TestHardlinksAndEscapes(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a/f", Mode: 0o600, Size: 3}))
	tw.Write([]byte("abc"))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeLink, Name: "g", Linkname: "a/f"}))
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: "s", Linkname: "../outside"}))
	must(t, tw.Close())
	name := filepath.Join(t.TempDir(), "x.tar")
	must(t, os.WriteFile(name, buf.Bytes(), 0o644))
	imp, err := New(context.Background(), Config{Location: name})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	recs := map[string]importers.Record{}
	for rec, err := range imp.Scan(t.Context()) {
		must(t, err)
		recs[rec.Path] = rec
	}
	f, g := recs["/a/f"], recs["/g"]
	if f.Inode == 0 || f.Inode != g.Inode || f.Nlink != 2 || g.Nlink != 2 || g.Size != 3 {
		t.Errorf("hardlink pair: %+v / %+v; want one inode, nlink 2", f, g)
	}
	if recs["/s"].Target != "../outside" {
		t.Errorf("symlink target %q", recs["/s"].Target)
	}
	rc, err := imp.Open(t.Context(), "/g")
	must(t, err)
	b, _ := io.ReadAll(rc)
	if string(b) != "abc" {
		t.Errorf("hardlink content %q", b)
	}

	buf.Reset()
	tw = tar.NewWriter(&buf)
	must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "../../etc/evil", Mode: 0o600}))
	must(t, tw.Close())
	must(t, os.WriteFile(name, buf.Bytes(), 0o644))
	if imp, err := New(context.Background(), Config{Location: name}); err == nil {
		imp.Close()
		t.Fatal("an archive with ../../etc/evil was accepted")
	} else if !strings.Contains(err.Error(), "leaves the archive's root") {
		t.Errorf("error %v; want it to name the escaping member", err)
	}
}

func TestLocation(t *testing.T) {
	for _, loc := range []string{"tar://host/x.tar", "tar://", ""} {
		if _, err := New(context.Background(), Config{Location: loc}); err == nil {
			t.Errorf("location %q accepted", loc)
		}
	}
}
