package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestUnreadableFileIsPartial runs the real binary as an unprivileged user
// (uid 65534 when the tests run as root, as in CI) on a tree holding a
// mode-000 file: the ingest exits 3, the file is listed by `errors` and
// counted by `summary`, and everything else is in the snapshot.
func TestUnreadableFileIsPartial(t *testing.T) {
	root, err := os.MkdirTemp("", "plakar-gw-unpriv-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	bin := filepath.Join(root, "plakar-gw")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	src := filepath.Join(root, "src")
	os.MkdirAll(filepath.Join(src, "dir"), 0o755)
	os.WriteFile(filepath.Join(src, "dir", "readable"), []byte("fine"), 0o644)
	os.WriteFile(filepath.Join(src, "dir", "secret"), []byte("hidden"), 0o000)
	os.Chmod(filepath.Join(src, "dir", "secret"), 0o000)

	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		os.Chmod(root, 0o755)
		filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, 65534, 65534) })
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(bin, append([]string{"--repo", filepath.Join(root, "repo"), "--cache-dir", filepath.Join(root, "cache")}, args...)...)
		cmd.Env = []string{"PLAKAR_GW_PASSPHRASE=pw", "HOME=" + root, "XDG_CONFIG_HOME=" + filepath.Join(root, "config"), "PATH=/usr/bin:/bin"}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, string(out)
	}
	if code, out := run("init"); code != 0 {
		t.Fatalf("init: %d %s", code, out)
	}
	if code, out := run("ingest", src); code != 3 {
		t.Fatalf("ingest of a tree with an unreadable file: exit %d, want 3\n%s", code, out)
	}
	code, out := run("errors", "latest")
	if code != 0 || !strings.Contains(out, "/dir/secret") || !strings.Contains(out, "permission denied") {
		t.Fatalf("errors latest: exit %d\n%s", code, out)
	}
	code, out = run("summary", "--json", "latest")
	if code != 0 || !strings.Contains(out, `"errors": 1`) {
		t.Fatalf("summary: exit %d, want one error counted\n%s", code, out)
	}
	code, out = run("cat", "latest:dir/readable")
	if code != 0 || out != "fine" {
		t.Fatalf("cat readable: %d %q", code, out)
	}
	if code, out := run("cat", "latest:dir/secret"); code == 0 {
		t.Fatalf("cat of the unreadable file succeeded: %q", out)
	}
}
