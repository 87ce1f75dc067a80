package importertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Run checks that imp serves exactly the tree described by fix. It checks
// what the engine relies on: "/" first; every path clean, absolute, unique;
// each directory before its contents with its subtree contiguous (a record
// outside a directory means the directory is complete); types and sizes;
// exact content from Open, also while a scan is running; errors for
// missing and escaping paths; and that a cancelled context stops Scan.
// Sibling order is not checked: the interface does not promise one.
func Run(t *testing.T, fix Fixture, imp importers.Importer) {
	t.Helper()
	want, err := fix.Expected()
	if err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	t.Run("Identity", func(t *testing.T) {
		if imp.Type() == "" || imp.Origin() == "" {
			t.Errorf("Type() = %q, Origin() = %q; want both non-empty", imp.Type(), imp.Origin())
		}
	})
	t.Run("Scan", func(t *testing.T) {
		recs := collect(t, imp)
		report(t, checkOrder(recs))
		report(t, checkTree(recs, want, fix))
	})
	t.Run("ScanIsRepeatable", func(t *testing.T) {
		a, b := paths(collect(t, imp)), paths(collect(t, imp))
		if !slices.Equal(a, b) {
			t.Errorf("two scans differ:\n%q\n%q", a, b)
		}
	})
	t.Run("Open", func(t *testing.T) { checkOpenAll(t, imp, fix) })
	t.Run("OpenDuringScan", func(t *testing.T) { checkOpenDuringScan(t, imp, fix) })
	t.Run("OpenMissing", func(t *testing.T) { checkOpenMissing(t, imp, want) })
	t.Run("OpenEscape", func(t *testing.T) { checkOpenEscape(t, imp) })
	t.Run("Cancel", func(t *testing.T) { checkCancel(t, imp, len(want)) })
	t.Run("Break", func(t *testing.T) {
		for range imp.Scan(t.Context()) {
			break // the iterator must not call yield again (that panics)
		}
	})
}

// collect runs a full scan and fails on a scan-ending error.
func collect(t *testing.T, imp importers.Importer) []importers.Record {
	t.Helper()
	var recs []importers.Record
	for rec, err := range imp.Scan(t.Context()) {
		if err != nil {
			t.Fatalf("Scan ended with error after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
	}
	return recs
}

func paths(recs []importers.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Path
	}
	return out
}

// checkOrder keeps the stack of directories whose subtree is still open:
// a record's parent must be on it, and everything above the parent is
// finished. A parent that was popped earlier means a split subtree.
// It returns the problems found, as messages.
func checkOrder(recs []importers.Record) []string {
	if len(recs) == 0 || recs[0].Path != "/" || !recs[0].Mode.IsDir() {
		return []string{fmt.Sprintf("first record must be the directory \"/\" (%d records)", len(recs))}
	}
	var bad []string
	seen := map[string]bool{"/": true}
	stack := []string{"/"}
	for _, rec := range recs[1:] {
		p := rec.Path
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" {
			bad = append(bad, fmt.Sprintf("path %q is not clean and absolute", p))
			continue
		}
		if seen[p] {
			bad = append(bad, fmt.Sprintf("path %q yielded twice", p))
		}
		seen[p] = true
		parent := path.Dir(p)
		for len(stack) > 0 && stack[len(stack)-1] != parent {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 { // later records would all be reported too
			return append(bad, fmt.Sprintf("%q is not inside the subtree of its parent %q "+
				"(parent missing, later, or its subtree already left)", p, parent))
		}
		if rec.Mode.IsDir() {
			stack = append(stack, p)
		}
	}
	return bad
}

// checkTree compares the yielded set with the fixture, types and sizes.
func checkTree(recs []importers.Record, want map[string]bool, fix Fixture) []string {
	var bad []string
	got := map[string]bool{}
	for _, rec := range recs {
		got[rec.Path] = true
		if rec.Err != nil {
			bad = append(bad, fmt.Sprintf("%s: unexpected Err: %v", rec.Path, rec.Err))
		}
		isDir, ok := want[rec.Path]
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("unexpected path %q", rec.Path))
		case isDir && !rec.Mode.IsDir():
			bad = append(bad, fmt.Sprintf("%s: mode %v, want a directory", rec.Path, rec.Mode))
		case !isDir && !rec.Mode.IsRegular():
			bad = append(bad, fmt.Sprintf("%s: mode %v, want a regular file", rec.Path, rec.Mode))
		case !isDir && rec.Size != int64(len(fix.Files[rec.Path])):
			bad = append(bad, fmt.Sprintf("%s: size %d, want %d", rec.Path, rec.Size, len(fix.Files[rec.Path])))
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !got[p] {
			bad = append(bad, fmt.Sprintf("path %q missing from scan", p))
		}
	}
	return bad
}

func report(t *testing.T, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Error(p)
	}
}

func checkOpenAll(t *testing.T, imp importers.Importer, fix Fixture) {
	for p, content := range fix.Files {
		checkContent(t, imp, p, content)
	}
}

// checkOpenDuringScan opens files from several goroutines while the scan
// is running, as the engine does.
func checkOpenDuringScan(t *testing.T, imp importers.Importer, fix Fixture) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for rec, err := range imp.Scan(t.Context()) {
		if err != nil {
			t.Fatalf("Scan: %v", err)
		}
		content, ok := fix.Files[rec.Path]
		if !ok {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			checkContent(t, imp, rec.Path, content)
		})
	}
	wg.Wait()
}

func checkContent(t *testing.T, imp importers.Importer, p, want string) {
	rc, err := imp.Open(t.Context(), p)
	if err != nil {
		t.Errorf("Open(%q): %v", p, err)
		return
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Errorf("reading %q: %v", p, err)
		return
	}
	if !bytes.Equal(got, []byte(want)) {
		t.Errorf("Open(%q): got %d bytes, want %d; content differs", p, len(got), len(want))
	}
}

func checkOpenMissing(t *testing.T, imp importers.Importer, want map[string]bool) {
	for _, p := range []string{"/no-such-file", "/no-such-dir/no-such-file"} {
		if _, ok := want[p]; ok {
			t.Fatalf("fixture must not contain %q", p)
		}
		rc, err := imp.Open(t.Context(), p)
		if err == nil {
			rc.Close()
			t.Errorf("Open(%q) succeeded", p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v; want an error wrapping fs.ErrNotExist", p, err)
		}
	}
}

func checkOpenEscape(t *testing.T, imp importers.Importer) {
	for _, p := range []string{"/../etc/passwd", "/a/../../etc/passwd", "../etc/passwd", "etc/passwd"} {
		if rc, err := imp.Open(t.Context(), p); err == nil {
			rc.Close()
			t.Errorf("Open(%q) succeeded; want an error", p)
		}
	}
}

// checkCancel cancels before the scan and after its first record. Either
// way the scan must end with an error wrapping context.Canceled, as its
// last item, before yielding the whole tree.
func checkCancel(t *testing.T, imp importers.Importer, total int) {
	for _, after := range []int{0, 1} {
		ctx, cancel := context.WithCancel(t.Context())
		if after == 0 {
			cancel()
		}
		n, gotErr, afterErr := 0, error(nil), 0
		for _, err := range imp.Scan(ctx) {
			switch {
			case gotErr != nil:
				afterErr++
			case err != nil:
				gotErr = err
			default:
				if n++; n == after {
					cancel()
				}
			}
		}
		cancel()
		if !errors.Is(gotErr, context.Canceled) {
			t.Errorf("cancel after %d records: scan ended with %v; want context.Canceled", after, gotErr)
		}
		if afterErr > 0 || n >= total {
			t.Errorf("cancel after %d records: %d records yielded in all, %d after the error", after, n, afterErr)
		}
	}
}
