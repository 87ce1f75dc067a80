package fs_test

import (
	"bytes"
	"errors"
	iofs "io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/importers"
)

func TestSymlinks(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "secret"), nil, 0o644))
	must(t, os.Mkdir(filepath.Join(root, "dir"), 0o755))
	must(t, os.WriteFile(filepath.Join(root, "dir", "f"), []byte("f"), 0o644))
	links := map[string]string{
		"/rel":      "dir/f",
		"/abs":      outside,
		"/dangling": "no/such/target",
		"/dirlink":  "dir",
	}
	for name, target := range links {
		must(t, os.Symlink(target, filepath.Join(root, name)))
	}
	recs := byPath(scan(t, newImporter(t, root)))
	for name, target := range links {
		r, ok := recs[name]
		switch {
		case !ok:
			t.Errorf("%s missing", name)
		case r.Err != nil:
			t.Errorf("%s: Err %v", name, r.Err)
		case r.Mode.Type() != iofs.ModeSymlink || r.Target != target || r.Size != 0:
			t.Errorf("%s: mode %v target %q size %d; want symlink to %q, size 0", name, r.Mode, r.Target, r.Size, target)
		}
	}
	for p := range recs {
		if strings.HasPrefix(p, "/abs/") || strings.HasPrefix(p, "/dirlink/") {
			t.Errorf("followed a symlink: %s", p)
		}
	}
}

func TestHardlinks(t *testing.T) {
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "one"), []byte("x"), 0o644))
	must(t, os.Link(filepath.Join(root, "one"), filepath.Join(root, "two")))
	recs := byPath(scan(t, newImporter(t, root)))
	one, two := recs["/one"], recs["/two"]
	if one.Inode == 0 || one.Dev != two.Dev || one.Inode != two.Inode {
		t.Errorf("dev/inode: %d/%d vs %d/%d; want equal and non-zero", one.Dev, one.Inode, two.Dev, two.Inode)
	}
	if one.Nlink != 2 || two.Nlink != 2 {
		t.Errorf("Nlink = %d, %d; want 2", one.Nlink, two.Nlink)
	}
}

func TestSpecialFiles(t *testing.T) {
	root := t.TempDir()
	must(t, syscall.Mkfifo(filepath.Join(root, "fifo"), 0o640))
	l, err := net.Listen("unix", filepath.Join(root, "sock"))
	must(t, err)
	defer l.Close()
	dev := unix.Mkdev(1, 3)
	errNod := unix.Mknod(filepath.Join(root, "null"), unix.S_IFCHR|0o600, int(dev))

	recs := byPath(scan(t, newImporter(t, root)))
	if r := recs["/fifo"]; r.Err != nil || r.Mode.Type() != iofs.ModeNamedPipe || r.Mode.Perm() != 0o640 {
		t.Errorf("/fifo: mode %v err %v; want named pipe 0640", r.Mode, r.Err)
	}
	if r := recs["/sock"]; r.Err != nil || r.Mode.Type() != iofs.ModeSocket {
		t.Errorf("/sock: mode %v err %v; want socket", r.Mode, r.Err)
	}
	if errNod != nil {
		t.Logf("mknod not permitted here (%v); device check skipped", errNod)
		return
	}
	r := recs["/null"]
	if r.Mode.Type() != iofs.ModeDevice|iofs.ModeCharDevice || r.Rdev != dev {
		t.Errorf("/null: mode %v rdev %#x; want char device %#x", r.Mode, r.Rdev, dev)
	}
}

func TestModeBits(t *testing.T) {
	root := t.TempDir()
	cases := map[string]os.FileMode{
		"/setuid": 0o755 | os.ModeSetuid,
		"/setgid": 0o755 | os.ModeSetgid | os.ModeDir,
		"/sticky": 0o777 | os.ModeSticky | os.ModeDir,
		"/none":   0,
	}
	for name, mode := range cases {
		p := filepath.Join(root, name)
		if mode.IsDir() {
			must(t, os.Mkdir(p, 0o700))
		} else {
			must(t, os.WriteFile(p, nil, 0o600))
		}
		must(t, os.Chmod(p, mode))
	}
	recs := byPath(scan(t, newImporter(t, root)))
	for name, mode := range cases {
		if got := recs[name]; got.Mode != mode || got.Err != nil {
			t.Errorf("%s: mode %v err %v; want %v", name, got.Mode, got.Err, mode)
		}
	}
}

func TestOwner(t *testing.T) {
	root := t.TempDir()
	must(t, os.WriteFile(filepath.Join(root, "f"), []byte("abc"), 0o644))
	r := byPath(scan(t, newImporter(t, root)))["/f"]
	if r.UID != uint32(os.Geteuid()) || r.GID != uint32(os.Getegid()) {
		t.Errorf("uid/gid %d/%d; want %d/%d", r.UID, r.GID, os.Geteuid(), os.Getegid())
	}
	if u, err := user.LookupId(strconv.Itoa(os.Geteuid())); err == nil && r.User != u.Username {
		t.Errorf("User = %q, want %q", r.User, u.Username)
	}
	if g, err := user.LookupGroupId(strconv.Itoa(os.Getegid())); err == nil && r.Group != g.Name {
		t.Errorf("Group = %q, want %q", r.Group, g.Name)
	}
	if r.Size != 3 || r.ModTime.IsZero() || r.Nlink != 1 {
		t.Errorf("size %d modtime %v nlink %d", r.Size, r.ModTime, r.Nlink)
	}
}

func TestXattrs(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "f")
	must(t, os.WriteFile(p, nil, 0o644))
	set := []importers.Xattr{
		{Name: "user.b", Value: []byte("second")},
		{Name: "user.a", Value: bytes.Repeat([]byte{0, 1, 2}, 1000)},
		{Name: "user.empty", Value: []byte{}},
	}
	for _, x := range set {
		if err := unix.Setxattr(p, x.Name, x.Value, 0); errors.Is(err, unix.ENOTSUP) {
			t.Skipf("filesystem of %s has no user xattrs: %v", root, err)
		} else {
			must(t, err)
		}
	}
	r := byPath(scan(t, newImporter(t, root)))["/f"]
	if r.Err != nil {
		t.Fatalf("Err: %v", r.Err)
	}
	var got []importers.Xattr
	for i, x := range r.Xattrs {
		if i > 0 && r.Xattrs[i-1].Name >= x.Name {
			t.Errorf("xattrs not sorted: %q before %q", r.Xattrs[i-1].Name, x.Name)
		}
		if strings.HasPrefix(x.Name, "user.") { // the system may add security.* ones
			got = append(got, x)
		}
	}
	want := []importers.Xattr{set[1], set[0], set[2]}
	if len(got) != len(want) {
		t.Fatalf("user xattrs: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Name != want[i].Name || !bytes.Equal(got[i].Value, want[i].Value) {
			t.Errorf("xattr %d: got %q (%d bytes), want %q (%d bytes)",
				i, got[i].Name, len(got[i].Value), want[i].Name, len(want[i].Value))
		}
	}
}
