package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/restore"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// trickyTree builds the acceptance tree in dir. It returns whether user
// xattrs could be set.
func trickyTree(t *testing.T, dir string, bigSize int64, many int) (xattrs bool) {
	t.Helper()
	xattrs, err := enginetest.TrickyTree(dir, enginetest.Tricky{BigSize: bigSize, Many: many})
	if err != nil {
		t.Fatal(err)
	}
	if !xattrs {
		t.Log("no user xattrs on this filesystem")
	}
	return xattrs
}

func userXattrs(t *testing.T, p string) map[string]string {
	t.Helper()
	out := map[string]string{}
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return out
		}
		t.Fatalf("listxattr %s: %v", p, err)
	}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if !strings.HasPrefix(name, "user.") {
			continue
		}
		v := make([]byte, 64<<10)
		m, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Fatalf("getxattr %s %s: %v", p, name, err)
		}
		out[name] = string(v[:m])
	}
	return out
}

// compareTrees checks that dst is a faithful copy of src, except for the
// relative paths in skip: types, permission and special mode bits,
// ownership, mtimes to the nanosecond (symlinks too), content, link
// targets, user xattrs and hardlink structure.
func compareTrees(t *testing.T, src, dst string, skip map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	srcGroups := map[uint64][]string{} // source inode -> paths
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip[rel] {
			return nil
		}
		seen[rel] = true
		q := filepath.Join(dst, rel)
		si, err := os.Lstat(p)
		if err != nil {
			return err
		}
		di, err := os.Lstat(q)
		if err != nil {
			t.Errorf("%q: not restored: %v", rel, err)
			return nil
		}
		ss, ds := si.Sys().(*syscall.Stat_t), di.Sys().(*syscall.Stat_t)
		if si.Mode() != di.Mode() {
			t.Errorf("%q: mode %v, want %v", rel, di.Mode(), si.Mode())
		}
		if ss.Uid != ds.Uid || ss.Gid != ds.Gid {
			t.Errorf("%q: owner %d:%d, want %d:%d", rel, ds.Uid, ds.Gid, ss.Uid, ss.Gid)
		}
		if sm, dm := si.ModTime().UnixNano(), di.ModTime().UnixNano(); sm != dm {
			t.Errorf("%q: mtime %v, want %v", rel, di.ModTime(), si.ModTime())
		}
		switch {
		case si.Mode().IsRegular():
			if si.Size() != di.Size() {
				t.Errorf("%q: size %d, want %d", rel, di.Size(), si.Size())
			} else if err := sameFile(os.DirFS(filepath.Dir(p)), filepath.Base(p), q); err != nil {
				t.Errorf("%q: %v", rel, err)
			}
			if ss.Nlink > 1 {
				srcGroups[ss.Ino] = append(srcGroups[ss.Ino], rel)
			} else if ds.Nlink != 1 {
				t.Errorf("%q: %d links, want 1", rel, ds.Nlink)
			}
		case si.Mode()&fs.ModeSymlink != 0:
			st, _ := os.Readlink(p)
			dt, err := os.Readlink(q)
			if err != nil || st != dt {
				t.Errorf("%q: link to %q (%v), want %q", rel, dt, err, st)
			}
		}
		if si.Mode()&fs.ModeSymlink == 0 {
			sx, dx := userXattrs(t, p), userXattrs(t, q)
			if fmt.Sprint(sx) != fmt.Sprint(dx) {
				t.Errorf("%q: xattrs %q, want %q", rel, dx, sx)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Hardlinks: one restored inode per source inode, as many links.
	used := map[uint64]string{}
	for _, group := range srcGroups {
		var ino uint64
		for i, rel := range group {
			di, err := os.Lstat(filepath.Join(dst, rel))
			if err != nil {
				continue
			}
			ds := di.Sys().(*syscall.Stat_t)
			if i == 0 {
				ino = ds.Ino
				if other, ok := used[ino]; ok {
					t.Errorf("%q and %q share an inode in the restore but not in the source", rel, other)
				}
				used[ino] = rel
			} else if ds.Ino != ino {
				t.Errorf("%q and %q are hardlinks in the source but not in the restore", group[0], rel)
			}
			if int(ds.Nlink) != len(group) {
				t.Errorf("%q: %d links, want %d", rel, ds.Nlink, len(group))
			}
		}
	}
	// Nothing more was restored.
	filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dst, p)
		if !seen[rel] {
			t.Errorf("%q restored but not in the source", rel)
		}
		return nil
	})
}

// sourceCounts counts a local tree as a snapshot summary would.
func sourceCounts(t *testing.T, dir string, skip map[string]bool) vfs.Counts {
	var c vfs.Counts
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		if err != nil || rel == "." || skip[rel] {
			return err
		}
		info, _ := d.Info()
		switch {
		case info.Mode().IsRegular():
			c.Files++
			c.Bytes += uint64(info.Size())
		case info.IsDir():
			c.Dirs++
		case info.Mode()&fs.ModeSymlink != 0:
			c.Symlinks++
		default:
			c.Others++
		}
		return nil
	})
	return c
}

func restoreTo(t *testing.T, fsys vfs.FS) (string, restore.Report) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "restored")
	rep, err := restore.Restore(context.Background(), fsys, ".", dst, restore.Options{})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, e := range rep.Errors {
		t.Errorf("restore error: %v", e)
	}
	return dst, rep
}

// TestTrickyTreeRoundTrip ingests the acceptance tree into a folder
// repository, restores it, and compares the two trees.
func TestTrickyTreeRoundTrip(t *testing.T) {
	bigSize := int64(300 << 20)
	if testing.Short() || raceEnabled() {
		bigSize = 30 << 20
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	xattrs := trickyTree(t, src, bigSize, 5000)
	t.Logf("tree with a %d MiB file built in %v (xattrs: %v)", bigSize>>20, time.Since(start), xattrs)

	root, r := fsRepo(t)
	start = time.Now()
	s := ingest(t, r, src)
	t.Logf("ingest: %v, stored %d bytes", time.Since(start), s.Header.Stats.StoredAdded)
	if !s.Header.Complete || len(s.Header.Errors) != 0 {
		t.Fatalf("snapshot incomplete: %+v", s.Header.Errors)
	}
	fsys := mustReopenFS(t, root).SnapshotFS(context.Background(), s)

	sum, err := fsys.Summary(".")
	if err != nil {
		t.Fatal(err)
	}
	want := sourceCounts(t, src, nil)
	got := sum.Subtree
	if got.Files != want.Files || got.Dirs != want.Dirs || got.Symlinks != want.Symlinks || got.Others != want.Others || got.Bytes != want.Bytes || got.Errors != 0 {
		t.Errorf("summary %+v, want %+v", got, want)
	}
	if got.LargestFile != "/big.bin" || got.LargestSize != bigSize {
		t.Errorf("largest %q %d", got.LargestFile, got.LargestSize)
	}
	for name, content := range map[string]string{"\u00e9": "NFC e-acute", "e\u0301": "NFD e + combining acute", "new\nline": "newline"} {
		if b, err := fs.ReadFile(fsys, name); err != nil || string(b) != content {
			t.Errorf("%q: %q, %v", name, b, err)
		}
	}
	if entries, err := fsys.ReadDir("many"); err != nil || len(entries) != 5000 {
		t.Errorf("many/: %d entries, %v", len(entries), err)
	}

	start = time.Now()
	dst, rep := restoreTo(t, fsys)
	t.Logf("restore: %v, %+v", time.Since(start), struct{ Files, Dirs, Symlinks, Hardlinks, Others int }{rep.Files, rep.Dirs, rep.Symlinks, rep.Hardlinks, rep.Others})
	if rep.Hardlinks != 3 || rep.Others != 1 || rep.Symlinks != 5 {
		t.Errorf("restore report: %d hardlinks, %d others, %d symlinks; want 3, 1, 5", rep.Hardlinks, rep.Others, rep.Symlinks)
	}
	start = time.Now()
	compareTrees(t, src, dst, nil)
	t.Logf("compare: %v", time.Since(start))
}

// TestTrickyUnreadableFile: a file the importer cannot open is recorded as
// a per-path error: the snapshot is incomplete, the error is listed and
// counted, the entry is absent, and everything else is restored.
func TestTrickyUnreadableFile(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "nested/a/noperm"), []byte("secret"))
	os.Chmod(filepath.Join(src, "nested/a/noperm"), 0)
	trickyTree(t, src, 1<<20, 50)
	const bad = "/nested/a/noperm"
	imp := newHookImporter(t, src, func(_ context.Context, p string) error {
		if p == bad {
			return &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
		}
		return nil
	})
	_, r := fsRepo(t)
	ctx := context.Background()
	s, err := r.Ingest(ctx, imp, engine.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Header.Complete {
		t.Error("Header.Complete is true with an unreadable file")
	}
	fsys := r.SnapshotFS(ctx, s)
	for _, dir := range []string{".", "nested", "nested/a"} {
		var got []vfs.PathError
		for e, err := range fsys.Errors(dir) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e)
		}
		if len(got) != 1 || got[0].Path != bad || !strings.Contains(got[0].Message, fs.ErrPermission.Error()) {
			t.Errorf("Errors(%q) = %+v, want one permission error for %s", dir, got, bad)
		}
	}
	for e, err := range fsys.Errors("many") {
		t.Errorf("Errors(many) yields %+v, %v", e, err)
	}
	sum, err := fsys.Summary(".")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Subtree.Errors != 1 || sum.Self.Errors != 0 {
		t.Errorf("root summary errors: self %d subtree %d, want 0 and 1", sum.Self.Errors, sum.Subtree.Errors)
	}
	if sa, _ := fsys.Summary("nested/a"); sa.Self.Errors != 1 {
		t.Errorf("nested/a summary: %d errors, want 1", sa.Self.Errors)
	}
	skip := map[string]bool{"nested/a/noperm": true}
	if want := sourceCounts(t, src, skip); sum.Subtree.Files != want.Files || sum.Subtree.Bytes != want.Bytes {
		t.Errorf("summary: %d files %d bytes, want %d and %d", sum.Subtree.Files, sum.Subtree.Bytes, want.Files, want.Bytes)
	}
	if _, err := fsys.Lstat("nested/a/noperm"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("lstat of the unreadable file: %v, want ErrNotExist", err)
	}
	dst, _ := restoreTo(t, fsys)
	// The directory holding the missing file keeps its recorded mtime.
	compareTrees(t, src, dst, skip)
}

// TestTrickyMode000NotRoot: without privileges a mode-000 file cannot be
// read; it is recorded as an error. As root it is read like any other
// file (TestTrickyTreeRoundTrip compares its content).
func TestTrickyMode000NotRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads mode-000 files; the error path is covered by TestTrickyUnreadableFile")
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "ok"), []byte("ok"))
	writeFile(t, filepath.Join(src, "locked"), []byte("locked"))
	os.Chmod(filepath.Join(src, "locked"), 0)
	_, r := fsRepo(t)
	s := ingest(t, r, src)
	fsys := r.SnapshotFS(context.Background(), s)
	var got []string
	for e, err := range fsys.Errors(".") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Path)
	}
	if s.Header.Complete || !slices.Equal(got, []string{"/locked"}) {
		t.Errorf("complete %v, errors %q", s.Header.Complete, got)
	}
	if sum, _ := fsys.Summary("."); sum.Subtree.Errors != 1 || sum.Subtree.Files != 1 {
		t.Errorf("summary %+v", sum.Subtree)
	}
}
