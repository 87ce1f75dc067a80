package restore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

var mtime = time.Date(2020, 5, 17, 10, 30, 0, 123456789, time.UTC)

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// source builds a tree with every kind of entry and returns its fake FS.
func source(t *testing.T) (string, *fakeFS) {
	root := t.TempDir()
	j := func(p string) string { return filepath.Join(root, p) }
	write(t, j("file.txt"), "hello")
	write(t, j("exec"), "#!/bin/sh\n")
	must(t, os.Chmod(j("exec"), 0o755))
	write(t, j("suid"), "s")
	write(t, j("ro/inner.txt"), "inner")
	write(t, j("locked/h"), "same")
	write(t, j("locked/secret"), "secret")
	must(t, os.MkdirAll(j("sub"), 0o755))
	must(t, os.Link(j("locked/h"), j("sub/h2")))
	must(t, os.MkdirAll(j("sticky"), 0o755))
	must(t, os.Symlink("file.txt", j("link")))
	must(t, os.Symlink("/etc/passwd", j("abs")))
	must(t, os.Symlink("nope", j("dangling")))
	must(t, unix.Mkfifo(j("fifo"), 0o640))
	if os.Geteuid() == 0 {
		must(t, os.Lchown(j("file.txt"), 1234, 5678))
	}
	// Times last, children before parents (reverse walk order).
	var paths []string
	filepath.WalkDir(root, func(p string, _ fs.DirEntry, _ error) error { paths = append(paths, p); return nil })
	ts := unix.NsecToTimespec(mtime.UnixNano())
	for i := len(paths) - 1; i >= 0; i-- {
		must(t, unix.UtimesNanoAt(unix.AT_FDCWD, paths[i], []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW))
	}
	f := newFake(root)
	f.perms["suid"] = 0o755 | fs.ModeSetuid
	f.perms["ro"] = 0o555
	f.perms["locked"] = 0
	f.perms["sticky"] = 0o777 | fs.ModeSticky
	return root, f
}

// unlockAll makes a restored tree removable again.
func unlockAll(t *testing.T, dir string) {
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if d != nil && d.IsDir() {
				os.Chmod(p, 0o700)
			}
			if err != nil && p != dir {
				os.Chmod(filepath.Dir(p), 0o700)
			}
			return nil
		})
	})
}

func TestRestoreTree(t *testing.T) {
	root, f := source(t)
	dst := filepath.Join(t.TempDir(), "out")
	unlockAll(t, dst)
	rep, err := Restore(context.Background(), f, ".", dst, Options{})
	must(t, err)
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	if rep.Hardlinks != 1 || rep.Symlinks != 3 || rep.Others != 1 {
		t.Errorf("report %+v", rep)
	}
	compare(t, f, root, dst, ".")
	a, err1 := os.Stat(filepath.Join(dst, "sub/h2"))
	must(t, err1)
	must(t, os.Chmod(filepath.Join(dst, "locked"), 0o700))
	b, err2 := os.Stat(filepath.Join(dst, "locked/h"))
	must(t, err2)
	if !os.SameFile(a, b) {
		t.Error("hardlinked files were restored as copies")
	}
}

// compare checks the restored entry at rel against the fake's view.
func compare(t *testing.T, f *fakeFS, root, dst, rel string) {
	t.Helper()
	want, err := f.Lstat(rel)
	must(t, err)
	p := filepath.Join(dst, rel)
	got, err := os.Lstat(p)
	if err != nil {
		t.Errorf("%s: %v", rel, err)
		return
	}
	if got.Mode() != want.Mode() {
		t.Errorf("%s: mode %v, want %v", rel, got.Mode(), want.Mode())
	}
	if !got.ModTime().Equal(mtime) {
		t.Errorf("%s: mtime %v, want %v", rel, got.ModTime(), mtime)
	}
	if os.Geteuid() == 0 {
		ws, gs := want.Sys().(*vfs.Sys), got.Sys().(*syscall.Stat_t)
		if ws.UID != gs.Uid || ws.GID != gs.Gid {
			t.Errorf("%s: owner %d:%d, want %d:%d", rel, gs.Uid, gs.Gid, ws.UID, ws.GID)
		}
	}
	switch {
	case want.Mode()&fs.ModeSymlink != 0:
		wt, _ := os.Readlink(filepath.Join(root, rel))
		if gt, _ := os.Readlink(p); gt != wt {
			t.Errorf("%s: target %q, want %q", rel, gt, wt)
		}
	case want.Mode().IsRegular():
		wb, _ := os.ReadFile(filepath.Join(root, rel))
		if gb, err := os.ReadFile(p); err != nil || !bytes.Equal(gb, wb) {
			t.Errorf("%s: content %q (%v), want %q", rel, gb, err, wb)
		}
	case want.IsDir():
		if os.Geteuid() != 0 {
			os.Chmod(p, 0o700) // to look inside; times are not changed by chmod
		}
		entries, err := os.ReadDir(filepath.Join(root, rel))
		must(t, err)
		for _, e := range entries {
			compare(t, f, root, dst, filepath.Join(rel, e.Name()))
		}
	}
}

func TestRestoreCorruptFileIsRemoved(t *testing.T) {
	_, f := source(t)
	f.corrupt["file.txt"] = true
	dst := t.TempDir()
	unlockAll(t, dst)
	rep, err := Restore(context.Background(), f, ".", dst, Options{})
	must(t, err)
	if len(rep.Errors) != 1 || rep.Errors[0].Path != "file.txt" || !errors.Is(rep.Errors[0], vfs.ErrCorrupt) {
		t.Fatalf("errors = %v, want one integrity error on file.txt", rep.Errors)
	}
	if _, err := os.Lstat(filepath.Join(dst, "file.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("partial file left behind: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, "exec")); err != nil {
		t.Errorf("restore did not go on: %v", err)
	}
}

func TestRestoreSingleFile(t *testing.T) {
	_, f := source(t)
	dir := t.TempDir()
	_, err := Restore(context.Background(), f, "ro/inner.txt", dir, Options{})
	must(t, err)
	if b, err := os.ReadFile(filepath.Join(dir, "inner.txt")); string(b) != "inner" {
		t.Errorf("into a directory: %q %v", b, err)
	}
	to := filepath.Join(dir, "renamed")
	_, err = Restore(context.Background(), f, "link", to, Options{})
	must(t, err)
	if target, err := os.Readlink(to); target != "file.txt" {
		t.Errorf("symlink restored as %q %v", target, err)
	}
}

func TestRestoreOverwrite(t *testing.T) {
	_, f := source(t)
	dst, outside := t.TempDir(), t.TempDir()
	unlockAll(t, dst)
	victim := filepath.Join(outside, "victim")
	write(t, victim, "keep")
	must(t, os.Symlink(victim, filepath.Join(dst, "file.txt")))
	rep, err := Restore(context.Background(), f, "file.txt", dst, Options{})
	must(t, err)
	if len(rep.Errors) != 1 || !errors.Is(rep.Errors[0], fs.ErrExist) {
		t.Fatalf("without overwrite: %v", rep.Errors)
	}
	rep, err = Restore(context.Background(), f, "file.txt", dst, Options{Overwrite: true})
	must(t, err)
	if len(rep.Errors) != 0 {
		t.Fatal(rep.Errors)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("a symlink in the destination was followed: victim is %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "file.txt")); string(b) != "hello" {
		t.Errorf("restored %q", b)
	}
}

func TestRestoreRefusesEscapingNames(t *testing.T) {
	_, f := source(t)
	f.extra["sub"] = []fs.DirEntry{&madeUp{name: "../../evil", mode: 0o644}, &madeUp{name: "..", mode: fs.ModeDir}}
	parent := t.TempDir()
	dst := filepath.Join(parent, "a", "b")
	unlockAll(t, parent)
	rep, err := Restore(context.Background(), f, "sub", dst, Options{})
	must(t, err)
	if len(rep.Errors) != 2 || !errors.Is(rep.Errors[0], ErrEscapes) || !errors.Is(rep.Errors[1], ErrEscapes) {
		t.Fatalf("errors = %v", rep.Errors)
	}
	if _, err := os.Lstat(filepath.Join(parent, "evil")); err == nil {
		t.Error("an entry escaped the destination")
	}
}

func TestRestoreDevice(t *testing.T) {
	_, f := source(t)
	f.extra["."] = []fs.DirEntry{&madeUp{name: "null", mode: fs.ModeDevice | fs.ModeCharDevice | 0o666,
		sys: &vfs.Sys{Rdev: unix.Mkdev(1, 3)}}}
	dst := t.TempDir()
	unlockAll(t, dst)
	rep, err := Restore(context.Background(), f, ".", dst, Options{})
	must(t, err)
	st, serr := os.Lstat(filepath.Join(dst, "null"))
	if os.Geteuid() != 0 {
		if len(rep.Errors) != 1 || rep.Errors[0].Path != "null" || serr == nil {
			t.Fatalf("unprivileged mknod: errors %v, stat %v", rep.Errors, serr)
		}
		return
	}
	if serr != nil || st.Mode()&fs.ModeCharDevice == 0 || st.Sys().(*syscall.Stat_t).Rdev != unix.Mkdev(1, 3) {
		t.Fatalf("device: %v %v, errors %v", st, serr, rep.Errors)
	}
}

func TestRestoreCancelled(t *testing.T) {
	_, f := source(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dst := t.TempDir()
	if _, err := Restore(ctx, f, ".", dst, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestRestoreXattrs(t *testing.T) {
	_, f := source(t)
	dst := t.TempDir()
	unlockAll(t, dst)
	probe := filepath.Join(dst, "probe")
	write(t, probe, "")
	if err := unix.Lsetxattr(probe, "user.probe", []byte("1"), 0); err != nil {
		t.Skipf("no user xattrs on this filesystem: %v", err)
	}
	f.xattrs["exec"] = map[string][]byte{"user.color": []byte("blue")}
	rep, err := Restore(context.Background(), f, "exec", dst, Options{})
	must(t, err)
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(filepath.Join(dst, "exec"), "user.color", buf)
	if err != nil || string(buf[:n]) != "blue" || len(rep.Errors) != 0 {
		t.Fatalf("xattr %q %v, errors %v", buf[:n], err, rep.Errors)
	}
}
