package importertest

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plakar-gw/plakar-gw/importers"
)

// memImporter serves an fstest.MapFS: a source that is not a local
// directory, to show the suite assumes nothing about the filesystem.
type memImporter struct{ fsys fstest.MapFS }

func newMem(fix Fixture) *memImporter {
	m := fstest.MapFS{}
	for p, c := range fix.Files {
		m[p[1:]] = &fstest.MapFile{Data: []byte(c), Mode: 0o644}
	}
	for _, p := range fix.Dirs {
		m[p[1:]] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
	}
	return &memImporter{fsys: m}
}

func (m *memImporter) Type() string   { return "mem" }
func (m *memImporter) Origin() string { return "mem:" }
func (m *memImporter) Close() error   { return nil }

// Scan relies on fs.WalkDir, which is pre-order with sorted siblings.
func (m *memImporter) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		fs.WalkDir(m.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if ctx.Err() != nil {
				yield(importers.Record{}, ctx.Err())
				return fs.SkipAll
			}
			info, _ := d.Info()
			rec := importers.Record{Path: path.Join("/", p), Mode: info.Mode()}
			if info.Mode().IsRegular() {
				rec.Size = info.Size()
			}
			if !yield(rec, nil) {
				return fs.SkipAll
			}
			return nil
		})
	}
}

func (m *memImporter) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	return m.fsys.Open(p[1:])
}

func TestRunOnMemImporter(t *testing.T) {
	fix := DefaultFixture()
	Run(t, fix, newMem(fix))
}

func recs(paths ...string) []importers.Record {
	out := make([]importers.Record, len(paths))
	for i, p := range paths {
		out[i].Path = strings.TrimSuffix(p, "/")
		if strings.HasSuffix(p, "/") {
			out[i].Mode = fs.ModeDir
		}
	}
	out[0].Path = "/"
	return out
}

func TestCheckOrderCatches(t *testing.T) {
	cases := map[string][]importers.Record{
		"root not first":  recs("/a/", "/"),
		"duplicate":       recs("/", "/a", "/a"),
		"unclean":         recs("/", "/a/", "/a//b"),
		"child first":     recs("/", "/a/x", "/a/"),
		"split subtree":   recs("/", "/a/", "/b", "/a/x"),
		"file as parent":  recs("/", "/a", "/a/x"),
		"parent skipped":  recs("/", "/a/", "/a/b/c"),
		"relative path":   recs("/", "a"),
		"root yielded 2x": recs("/", "/"),
	}
	cases["root not first"][0].Path = "/a"
	for name, rs := range cases {
		if len(checkOrder(rs)) == 0 {
			t.Errorf("%s: %q not reported", name, paths(rs))
		}
	}
	if bad := checkOrder(recs("/", "/a/", "/a/x/", "/a/x/y", "/a b", "/b/", "/b/z")); len(bad) > 0 {
		t.Errorf("valid order reported: %q", bad)
	}
}

func TestCheckTreeCatches(t *testing.T) {
	fix := Fixture{Files: map[string]string{"/d/f": "abc"}, Dirs: []string{"/e"}}
	want, err := fix.Expected()
	if err != nil {
		t.Fatal(err)
	}
	good := recs("/", "/d/", "/d/f", "/e/")
	good[2].Size = 3
	if bad := checkTree(good, want, fix); len(bad) > 0 {
		t.Fatalf("valid tree reported: %q", bad)
	}
	mutations := map[string]func(rs []importers.Record) []importers.Record{
		"missing":   func(rs []importers.Record) []importers.Record { return rs[:3] },
		"extra":     func(rs []importers.Record) []importers.Record { return append(rs, recs("/", "/x")[1]) },
		"size":      func(rs []importers.Record) []importers.Record { rs[2].Size = 2; return rs },
		"file type": func(rs []importers.Record) []importers.Record { rs[3].Mode = 0; return rs },
		"dir type":  func(rs []importers.Record) []importers.Record { rs[2].Mode = fs.ModeDir; return rs },
		"err set":   func(rs []importers.Record) []importers.Record { rs[2].Err = fmt.Errorf("x"); return rs },
	}
	for name, mutate := range mutations {
		if len(checkTree(mutate(append([]importers.Record(nil), good...)), want, fix)) == 0 {
			t.Errorf("%s: not reported", name)
		}
	}
}
