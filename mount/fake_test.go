package mount_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
	"github.com/plakar-gw/plakar-gw/mount"
)

var t0 = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func fakeSnapshot(seed byte, job string, at time.Time) *vfstest.Snapshot {
	data := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	return &vfstest.Snapshot{
		Info: vfstest.Info(seed, job, at),
		Files: fstest.MapFS{
			"docs/readme.txt": {Data: []byte("hello\n"), Mode: 0o640, ModTime: t0,
				Sys: &vfs.Sys{UID: 1000, GID: 100, Nlink: 1, Xattrs: map[string][]byte{"user.a": []byte("1"), "user.b": {0, 0xff}}}},
			"docs/link":    {Data: []byte("readme.txt"), Mode: fs.ModeSymlink | 0o777, ModTime: t0},
			"abs-link":     {Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink | 0o777, ModTime: t0},
			"suid":         {Data: []byte("#!/bin/sh\n"), Mode: fs.ModeSetuid | 0o755, ModTime: t0},
			"sticky":       {Mode: fs.ModeDir | fs.ModeSticky | 0o777, ModTime: t0},
			"locked":       {Data: []byte("secret"), Mode: 0, ModTime: t0},
			"damaged.bin":  {Data: data, Mode: 0o644, ModTime: t0},
			"big/many/f00": {Data: []byte("x"), Mode: 0o644, ModTime: t0},
		},
		Corrupt:      map[string]bool{"damaged.bin": true},
		CorruptAfter: 300 << 10,
	}
}

func TestFakeCatalog(t *testing.T) {
	a := fakeSnapshot(1, "docs", t0)
	cat := vfstest.New(a)
	mnt := mountCatalog(t, cat, mount.Options{Refresh: 200 * time.Millisecond})
	snap := filepath.Join(mnt, "snap-"+a.Info.ShortID())

	t.Run("root", func(t *testing.T) {
		got := names(t, mnt)
		if want := "docs-latest snap-010101010101"; got != want {
			t.Errorf("root lists %q, want %q", got, want)
		}
		if target, err := os.Readlink(filepath.Join(mnt, "docs-latest")); err != nil || target != "snap-010101010101" {
			t.Errorf("docs-latest -> %q, %v", target, err)
		}
		if _, err := os.Stat(filepath.Join(mnt, "snap-999999999999")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("unknown snapshot: %v, want ENOENT", err)
		}
	})

	t.Run("attributes", func(t *testing.T) {
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(snap, "docs/readme.txt"), &st); err != nil {
			t.Fatal(err)
		}
		if st.Mode != unix.S_IFREG|0o640 || st.Uid != 1000 || st.Gid != 100 || st.Size != 6 ||
			st.Mtim.Sec != t0.Unix() || st.Mtim.Nsec != int64(t0.Nanosecond()) {
			t.Errorf("readme.txt: mode %o uid %d gid %d size %d mtime %v", st.Mode, st.Uid, st.Gid, st.Size, st.Mtim)
		}
		modes := map[string]uint32{"suid": unix.S_IFREG | unix.S_ISUID | 0o755, "sticky": unix.S_IFDIR | unix.S_ISVTX | 0o777,
			"locked": unix.S_IFREG, "docs/link": unix.S_IFLNK | 0o777}
		for name, want := range modes {
			if err := unix.Lstat(filepath.Join(snap, name), &st); err != nil || st.Mode != want {
				t.Errorf("%s: mode %o, %v; want %o", name, st.Mode, err, want)
			}
		}
		if x := xattrs(t, filepath.Join(snap, "docs/readme.txt")); x != "user.a=\"1\"\nuser.b=\"\\x00\\xff\"" {
			t.Errorf("xattrs: %q", x)
		}
		if _, err := unix.Lgetxattr(filepath.Join(snap, "docs/readme.txt"), "user.none", nil); !errors.Is(err, unix.ENODATA) {
			t.Errorf("missing xattr: %v, want ENODATA", err)
		}
		if target, err := os.Readlink(filepath.Join(snap, "abs-link")); err != nil || target != "/etc/passwd" {
			t.Errorf("abs-link -> %q, %v: want the target as stored", target, err)
		}
		if b, err := os.ReadFile(filepath.Join(snap, "docs/link")); err != nil || string(b) != "hello\n" {
			t.Errorf("read through docs/link: %q, %v", b, err)
		}
	})

	t.Run("corrupt is EIO", func(t *testing.T) {
		f, err := os.Open(filepath.Join(snap, "damaged.bin"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		want := a.Files["damaged.bin"].Data
		buf := make([]byte, 64<<10)
		var off int64
		for {
			n, err := f.Read(buf)
			if !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
				t.Fatalf("read at %d: bytes that are not the file's", off)
			}
			off += int64(n)
			if err != nil {
				if !errors.Is(err, syscall.EIO) {
					t.Fatalf("read at %d: %v, want EIO", off, err)
				}
				break
			}
		}
		if off > 300<<10 {
			t.Errorf("read %d bytes, past the damage at %d", off, 300<<10)
		}
		n, err := f.ReadAt(buf, 512<<10)
		if !errors.Is(err, syscall.EIO) || n != 0 {
			t.Errorf("pread past the damage: %d bytes, %v; want EIO", n, err)
		}
	})

	t.Run("snapshots come and go", func(t *testing.T) {
		b := fakeSnapshot(2, "docs", t0.Add(time.Hour))
		cat.Add(b)
		waitFor(t, 5*time.Second, func() string {
			if got := names(t, mnt); got != "docs-latest snap-010101010101 snap-020202020202" {
				return "root lists " + got
			}
			if target, _ := os.Readlink(filepath.Join(mnt, "docs-latest")); target != "snap-020202020202" {
				return "docs-latest -> " + target
			}
			return ""
		})
		cat.Remove(a.Info.ID)
		waitFor(t, 5*time.Second, func() string {
			if got := names(t, mnt); got != "docs-latest snap-020202020202" {
				return "root lists " + got
			}
			if _, err := os.Stat(snap); !errors.Is(err, fs.ErrNotExist) {
				return fmt.Sprintf("removed snapshot: stat %v", err)
			}
			return ""
		})
	})
}

// names lists a directory's names, sorted, space separated.
func names(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		out = append(out, d.Name())
	}
	return strings.Join(out, " ")
}

// waitFor polls until check returns "" and fails with its last answer
// after d.
func waitFor(t *testing.T, d time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, msg)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLargeDirectory lists a 100,000-entry directory of the fake: the
// listing streams, and every name comes back once.
func TestLargeDirectory(t *testing.T) {
	const n = 100_000
	files := fstest.MapFS{}
	for i := range n {
		files[fmt.Sprintf("d/f%06d", i)] = &fstest.MapFile{Data: []byte("x"), ModTime: t0}
	}
	s := &vfstest.Snapshot{Info: vfstest.Info(3, "big", t0), Files: files}
	mnt := mountCatalog(t, vfstest.New(s), mount.Options{})
	f, err := os.Open(filepath.Join(mnt, "snap-"+s.Info.ShortID(), "d"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := make(map[string]bool, n)
	for {
		des, err := f.ReadDir(1000)
		for _, d := range des {
			if seen[d.Name()] {
				t.Fatalf("%s listed twice", d.Name())
			}
			seen[d.Name()] = true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) != n {
		t.Fatalf("listed %d entries, want %d", len(seen), n)
	}
}

// TestServeErrors checks that set-up problems come back as errors that
// say what to do, and that Serve then leaves nothing mounted.
func TestServeErrors(t *testing.T) {
	requireFUSE(t)
	cat := vfstest.New(fakeSnapshot(1, "docs", t0))
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for dir, want := range map[string]string{
		filepath.Join(t.TempDir(), "missing"): "does not exist",
		file:                                  "not a directory",
	} {
		err := mount.Serve(context.Background(), dir, cat, mount.Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Serve(%s): %v, want an error saying %q", dir, err, want)
		}
	}
	// A second mount on a live one is refused.
	mnt := mountCatalog(t, cat, mount.Options{})
	err := mount.Serve(context.Background(), mnt, cat, mount.Options{})
	if err == nil || !strings.Contains(err.Error(), "already a mount point") {
		t.Errorf("Serve on a mount point: %v", err)
	}
}
