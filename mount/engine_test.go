package mount_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/mount"
)

// trickyMount is the tricky tree of the engine issue ingested into a real
// repository and mounted.
type trickyMount struct {
	src    string
	mnt    string
	snap   string // path of the snapshot's directory in the mount
	xattrs bool
	repo   *engine.Repository
}

func newTrickyMount(t *testing.T) *trickyMount {
	t.Helper()
	requireFUSE(t)
	o := enginetest.Tricky{BigSize: 64 << 20, Many: 3000}
	if testing.Short() {
		o = enginetest.Tricky{BigSize: 5 << 20, Many: 300}
	}
	src := t.TempDir()
	xattrs, err := enginetest.TrickyTree(src, o)
	if err != nil {
		t.Fatal(err)
	}
	repo, _ := enginetest.NewRepo(t)
	s := enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "tricky"})
	mnt := mountCatalog(t, repo, mount.Options{})
	return &trickyMount{src: src, mnt: mnt, snap: filepath.Join(mnt, "snap-"+s.ID.String()[:12]), xattrs: xattrs, repo: repo}
}

func TestTrickyTree(t *testing.T) {
	m := newTrickyMount(t)
	t.Run("diff", m.testDiff)
	t.Run("stat", m.testStat)
	t.Run("pread", m.testPread)
	t.Run("parallel", m.testParallel)
	t.Run("readonly", m.testReadOnly)
	t.Run("latest", m.testLatest)
	t.Run("fifo", m.testFIFO)
	t.Run("new snapshot", m.testNewSnapshot) // last: it changes the root
}

// testDiff compares the trees with diff -r. --no-dereference compares
// symlinks as links (their targets), so the absolute and dangling ones
// are checked as stored instead of being followed out of the mount. diff
// reports any two FIFOs as different ("is a fifo while ... is a fifo"):
// that one line is expected, the FIFO's type and mode are checked by
// testStat.
func (m *trickyMount) testDiff(t *testing.T) {
	out, err := exec.Command("diff", "-r", "--no-dereference", m.src, m.snap).CombinedOutput()
	fifo := fmt.Sprintf("File %s/fifo is a fifo while file %s/fifo is a fifo\n", m.src, m.snap)
	if err != nil && string(out) != fifo {
		t.Fatalf("diff -r %s %s: %v\n%s", m.src, m.snap, err, out)
	}
}

// testStat compares the Lstat of every entry: mode with its special bits,
// size, mtime to the nanosecond, owner, link count, symlink target,
// extended attributes, and hardlinks sharing an inode.
func (m *trickyMount) testStat(t *testing.T) {
	inodes := map[uint64]uint64{} // source inode -> mount inode
	n := 0
	err := filepath.WalkDir(m.src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(m.src, p)
		mp := filepath.Join(m.snap, rel)
		var want, got unix.Stat_t
		if err := unix.Lstat(p, &want); err != nil {
			return err
		}
		if err := unix.Lstat(mp, &got); err != nil {
			t.Errorf("%q: %v", rel, err)
			return nil
		}
		n++
		check := func(what string, w, g any) {
			if w != g {
				t.Errorf("%q: %s %v in the mount, %v in the source", rel, what, g, w)
			}
		}
		check("mode", fmt.Sprintf("%o", want.Mode), fmt.Sprintf("%o", got.Mode))
		check("mtime", want.Mtim, got.Mtim)
		check("uid", want.Uid, got.Uid)
		check("gid", want.Gid, got.Gid)
		check("nlink", want.Nlink, got.Nlink)
		if want.Mode&unix.S_IFMT != unix.S_IFDIR { // a directory's size is the file system's business
			check("size", want.Size, got.Size)
		}
		if want.Nlink > 1 && want.Mode&unix.S_IFMT == unix.S_IFREG {
			if prev, ok := inodes[want.Ino]; ok {
				check("inode shared by hardlinks", prev, got.Ino)
			}
			inodes[want.Ino] = got.Ino
		}
		if d.Type()&fs.ModeSymlink != 0 {
			wt, _ := os.Readlink(p)
			gt, err := os.Readlink(mp)
			check("link target", wt, gt)
			check("readlink error", nil, err)
		}
		check("xattrs", xattrs(t, p), xattrs(t, mp))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 300 {
		t.Fatalf("only %d entries compared", n)
	}
	if !m.xattrs {
		t.Log("this file system refused user xattrs in the source: none to compare")
	} else if x := xattrs(t, filepath.Join(m.snap, "nested/a/b/c/d/deep.txt")); !strings.Contains(x, `user.comment="a comment"`) {
		t.Errorf("xattrs of deep.txt: %q", x)
	}
}

// xattrs lists a path's extended attributes as "name=value" lines.
func xattrs(t *testing.T, p string) string {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return ""
		}
		t.Errorf("listxattr %q: %v", p, err)
		return ""
	}
	var out []string
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" || strings.HasPrefix(name, "security.") {
			continue
		}
		v := make([]byte, 64<<10)
		vn, err := unix.Lgetxattr(p, name, v)
		if err != nil {
			t.Errorf("getxattr %q %s: %v", p, name, err)
		}
		out = append(out, fmt.Sprintf("%s=%q", name, v[:max(vn, 0)]))
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// testPread reads 1,000 random ranges of the big file with pread.
func (m *trickyMount) testPread(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(m.src, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(m.snap, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	buf := make([]byte, 300<<10)
	for i := range 1000 {
		off := rng.Int64N(int64(len(want)))
		n := rng.IntN(len(buf)) + 1
		if i%10 == 0 {
			off = int64(len(want)) - int64(rng.IntN(1000)) // around the end
		}
		got, err := f.ReadAt(buf[:n], off)
		if err != nil && err != io.EOF {
			t.Fatalf("pread %d bytes at %d: %v", n, off, err)
		}
		end := min(off+int64(n), int64(len(want)))
		if !bytes.Equal(buf[:got], want[off:end]) {
			t.Fatalf("pread %d bytes at %d: got %d bytes that differ from the source", n, off, got)
		}
	}
}

// testParallel runs 8 readers over the same and different files at once.
func (m *trickyMount) testParallel(t *testing.T) {
	files := []string{"big.bin", "big.bin", "big.bin", "nested/a/pair-a", "nested/a/b/pair-b", "nested/a/b/mid.bin", "big.bin", "nested/a/b/c/d/deep.txt"}
	var wg sync.WaitGroup
	for i, name := range files {
		wg.Go(func() {
			want := fileHash(t, filepath.Join(m.src, name))
			got := fileHash(t, filepath.Join(m.snap, name))
			if want != got {
				t.Errorf("reader %d: %s differs from the source", i, name)
			}
		})
	}
	wg.Wait()
}

func fileHash(t *testing.T, p string) [32]byte {
	f, err := os.Open(p)
	if err != nil {
		t.Error(err)
		return [32]byte{}
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 64<<10)); err != nil {
		t.Errorf("%s: %v", p, err)
	}
	return [32]byte(h.Sum(nil))
}

// testReadOnly tries every kind of write.
func (m *trickyMount) testReadOnly(t *testing.T) {
	p := func(name string) string { return filepath.Join(m.snap, name) }
	ops := map[string]func() error{
		"create":      func() error { _, err := os.Create(p("new-file")); return err },
		"open write":  func() error { _, err := os.OpenFile(p("exec.sh"), os.O_WRONLY, 0); return err },
		"open rdwr":   func() error { _, err := os.OpenFile(p("exec.sh"), os.O_RDWR, 0); return err },
		"append":      func() error { _, err := os.OpenFile(p("exec.sh"), os.O_WRONLY|os.O_APPEND, 0); return err },
		"unlink":      func() error { return os.Remove(p("exec.sh")) },
		"mkdir":       func() error { return os.Mkdir(p("new-dir"), 0o755) },
		"rmdir":       func() error { return syscall.Rmdir(p("empty-dir")) },
		"rename":      func() error { return os.Rename(p("exec.sh"), p("renamed")) },
		"symlink":     func() error { return os.Symlink("x", p("new-link")) },
		"link":        func() error { return os.Link(p("exec.sh"), p("new-hardlink")) },
		"mknod":       func() error { return syscall.Mkfifo(p("new-fifo"), 0o644) },
		"chmod":       func() error { return os.Chmod(p("exec.sh"), 0o700) },
		"chown":       func() error { return os.Lchown(p("exec.sh"), 1, 1) },
		"truncate":    func() error { return os.Truncate(p("exec.sh"), 0) },
		"utimes":      func() error { return os.Chtimes(p("exec.sh"), time.Now(), time.Now()) },
		"setxattr":    func() error { return unix.Lsetxattr(p("exec.sh"), "user.x", []byte("y"), 0) },
		"removexattr": func() error { return unix.Lremovexattr(p("hard1"), "user.bin") },
		"root mkdir":  func() error { return os.Mkdir(filepath.Join(m.mnt, "new-dir"), 0o755) },
		"root create": func() error { _, err := os.Create(filepath.Join(m.mnt, "new-file")); return err },
		"root unlink": func() error { return os.Remove(filepath.Join(m.mnt, "tricky-latest")) },
	}
	for name, op := range ops {
		if err := op(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: %v, want EROFS", name, err)
		}
	}
	if b, err := os.ReadFile(p("exec.sh")); err != nil || !strings.Contains(string(b), "echo hi") {
		t.Errorf("exec.sh after the writes: %q, %v", b, err)
	}
}

// testLatest follows the job's alias.
func (m *trickyMount) testLatest(t *testing.T) {
	target, err := os.Readlink(filepath.Join(m.mnt, "tricky-latest"))
	if err != nil || target != filepath.Base(m.snap) {
		t.Fatalf("tricky-latest -> %q, %v; want %s", target, err, filepath.Base(m.snap))
	}
	got, err := os.ReadFile(filepath.Join(m.mnt, "tricky-latest", "日本語", "ファイル.txt"))
	if err != nil || string(got) != "unicode" {
		t.Errorf("read through tricky-latest: %q, %v", got, err)
	}
}

// testFIFO checks that the FIFO is shown as one and that opening it does
// not hang the mount.
func (m *trickyMount) testFIFO(t *testing.T) {
	p := filepath.Join(m.snap, "fifo")
	st, err := os.Lstat(p)
	if err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("fifo: %v, %v", st, err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			f.Close()
		}
		done <- err
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("opening the FIFO with O_NONBLOCK hangs")
	}
}

// testNewSnapshot ingests while mounted: the snapshot and the moved alias
// must show within 5 s, without remounting.
func (m *trickyMount) testNewSnapshot(t *testing.T) {
	if _, err := os.ReadDir(m.mnt); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	if err := enginetest.WriteFile(filepath.Join(src, "later.txt"), []byte("ingested after mounting")); err != nil {
		t.Fatal(err)
	}
	s := enginetest.Ingest(t, m.repo, src, engine.IngestOptions{Job: "tricky"})
	name := "snap-" + s.ID.String()[:12]
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, err := os.ReadFile(filepath.Join(m.mnt, "tricky-latest", "later.txt"))
		listed := dirHas(t, m.mnt, name)
		if err == nil && string(got) == "ingested after mounting" && listed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("5 s after the ingest: listed %v, tricky-latest/later.txt %q, %v", listed, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := os.Stat(m.snap); err != nil {
		t.Errorf("the older snapshot went away: %v", err)
	}
}

func dirHas(t *testing.T, dir, name string) bool {
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Error(err)
	}
	for _, d := range des {
		if d.Name() == name {
			return true
		}
	}
	return false
}
