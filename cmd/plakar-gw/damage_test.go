package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPartialIngest: an unreadable directory makes a partial snapshot, exit 3.
func TestPartialIngest(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: a chmod 000 directory stays readable (the partial exit code is covered by the engine's tests)")
	}
	c := newCLI(t)
	src, _ := sourceTree(t, c.dir)
	locked := filepath.Join(src, "sub", "deep")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	c.ok("init")
	r := c.fails(exitPartial, "ingest", src)
	if !strings.Contains(r.stdout, ", 1 errors,") || !strings.Contains(r.stderr, "partial snapshot") {
		t.Errorf("partial ingest: %+v", r)
	}
	if out := c.ok("errors", "latest"); !strings.HasPrefix(out, "/sub/deep: ") {
		t.Errorf("errors: %q", out)
	}
}

// TestDamagedRepository: flipped bytes in the packs are reported by cat
// (non-zero, no wrong bytes) and by check --read-data.
func TestDamagedRepository(t *testing.T) {
	c := newCLI(t)
	src, big := sourceTree(t, c.dir)
	c.ok("init")
	c.ok("ingest", src)
	damagePacks(t, filepath.Join(c.repo, "packs"))
	r := c.run("cat", "latest:sub/big.bin")
	if r.code != 1 || !strings.Contains(r.stderr, "integrity check failed") {
		t.Errorf("cat of damaged data: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.HasPrefix(string(big), r.stdout) {
		t.Error("cat printed bytes that are not the file's")
	}
	r = c.run("check", "--read-data")
	if r.code != 1 || !strings.Contains(r.stderr, "damaged") || r.stdout == "" {
		t.Errorf("check --read-data: %+v", r)
	}
}

// damagePacks flips a byte in the middle of every pack.
func damagePacks(t *testing.T, dir string) {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0xff
		os.Chmod(p, 0o600)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Fatal("no packs found")
	}
}
