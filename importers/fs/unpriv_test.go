package fs_test

import (
	"errors"
	"io"
	iofs "io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// Permission tests need a user that permissions apply to. CI runs as root,
// which reads everything, so as root the checks run in a child process: a
// copy of this test binary, started as nobody (65534), running
// TestUnprivilegedHelper with the check and tree named in the environment.
const (
	envCheck = "PLAKAR_FS_TEST_CHECK"
	envTree  = "PLAKAR_FS_TEST_TREE"
	nobody   = 65534
)

var checks = map[string]func(t *testing.T, root string){
	"unreadable-dir": checkUnreadableDir,
	"open-noperm":    checkOpenNoPerm,
}

func TestUnreadableDir(t *testing.T)    { runUnprivileged(t, "unreadable-dir") }
func TestOpenNoPermission(t *testing.T) { runUnprivileged(t, "open-noperm") }

// TestUnprivilegedHelper is the child side; it does nothing in a normal run.
func TestUnprivilegedHelper(t *testing.T) {
	name := os.Getenv(envCheck)
	if name == "" {
		t.Skip("helper for the unprivileged subprocess tests")
	}
	if os.Geteuid() == 0 {
		t.Fatal("helper runs as root: permission checks would prove nothing")
	}
	checks[name](t, os.Getenv(envTree))
}

// permTree builds: a_before/file, locked/ (000) holding secret,
// noread.txt (000), z_after/file.
func permTree(t *testing.T, root string) {
	for _, d := range []string{"a_before", "locked", "z_after"} {
		must(t, os.Mkdir(filepath.Join(root, d), 0o755))
	}
	for _, f := range []string{"a_before/file", "locked/secret", "noread.txt", "z_after/file"} {
		must(t, os.WriteFile(filepath.Join(root, f), []byte("data"), 0o644))
	}
	for _, p := range []string{"locked", "noread.txt"} {
		must(t, os.Chmod(filepath.Join(root, p), 0))
	}
	// A non-root owner could not remove the tree without this.
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })
}

func runUnprivileged(t *testing.T, check string) {
	base := sharedDir(t)
	root := filepath.Join(base, "tree")
	must(t, os.Mkdir(root, 0o755))
	must(t, os.Chmod(root, 0o755))
	permTree(t, root)
	if os.Geteuid() != 0 {
		checks[check](t, root) // permissions already apply to us
		return
	}
	exe := filepath.Join(base, "fs.test")
	copyExecutable(t, exe)
	cmd := exec.Command(exe, "-test.run=^TestUnprivilegedHelper$", "-test.v", "-test.count=1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), envCheck+"="+check, envTree+"="+root)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestUnprivilegedHelper") {
		t.Fatalf("unprivileged check %q (uid %d): %v\n%s", check, nobody, err, out)
	}
}

// sharedDir returns a directory that uid 65534 can traverse. t.TempDir's
// parent is 0700, so as root we make our own under os.TempDir().
func sharedDir(t *testing.T) string {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		return dir
	}
	must(t, os.Chmod(dir, 0o755))
	if traversable(dir) {
		return dir
	}
	dir, err := os.MkdirTemp(os.TempDir(), "plakar-fs-test-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	must(t, os.Chmod(dir, 0o755))
	if !traversable(dir) {
		t.Fatalf("no directory that uid %d can traverse: a parent of %s lacks o+x", nobody, dir)
	}
	return dir
}

// traversable reports whether "others" may search dir and all its parents.
func traversable(dir string) bool {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		if p == filepath.Dir(p) {
			return true
		}
	}
}

// copyExecutable copies the running test binary to dst: the go build
// cache directory it lives in is not accessible to other users.
func copyExecutable(t *testing.T, dst string) {
	src, err := os.Executable()
	must(t, err)
	in, err := os.Open(src)
	must(t, err)
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	must(t, err)
	_, err = io.Copy(out, in)
	must(t, errors.Join(err, out.Close()))
}

// checkUnreadableDir: the locked directory is yielded once, as a directory
// with Err wrapping fs.ErrPermission and no children, and the scan goes on.
// The 000 file is not an error at scan time: lstat works on it.
func checkUnreadableDir(t *testing.T, root string) {
	recs := scan(t, newImporter(t, root))
	want := []string{"/", "/a_before", "/a_before/file", "/locked", "/noread.txt", "/z_after", "/z_after/file"}
	if got := pathsOf(recs); !slices.Equal(got, want) {
		t.Fatalf("paths:\n got %q\nwant %q", got, want)
	}
	for _, r := range recs {
		if r.Path != "/locked" && r.Err != nil {
			t.Errorf("%s: unexpected Err %v", r.Path, r.Err)
		}
	}
	locked := byPath(recs)["/locked"]
	if !errors.Is(locked.Err, iofs.ErrPermission) || !locked.Mode.IsDir() {
		t.Errorf("/locked: mode %v, Err %v; want a directory with a permission error", locked.Mode, locked.Err)
	}
	if r := byPath(recs)["/noread.txt"]; r.Size != 4 || r.Mode.Perm() != 0 {
		t.Errorf("/noread.txt: size %d mode %v; want 4, ----------", r.Size, r.Mode)
	}
}

// checkOpenNoPerm: opening a 000 file, or a file in a 000 directory,
// fails with fs.ErrPermission; readable files still open.
func checkOpenNoPerm(t *testing.T, root string) {
	imp := newImporter(t, root)
	for _, p := range []string{"/noread.txt", "/locked/secret"} {
		rc, err := imp.Open(t.Context(), p)
		if err == nil {
			rc.Close()
		}
		if !errors.Is(err, iofs.ErrPermission) {
			t.Errorf("Open(%q) = %v; want fs.ErrPermission", p, err)
		}
	}
	rc, err := imp.Open(t.Context(), "/z_after/file")
	must(t, err)
	rc.Close()
}
