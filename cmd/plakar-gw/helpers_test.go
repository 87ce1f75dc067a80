package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs plakar-gw in-process against a repository in a temp folder.
type cli struct {
	t    *testing.T
	dir  string
	repo string
}

type result struct {
	code           int
	stdout, stderr string
}

// newCLI isolates the run from the user's config and environment. The
// PLAKAR_GW_* variables are set with t.Setenv, so tests using it are not parallel.
func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	c := &cli{t: t, dir: dir, repo: filepath.Join(dir, "repo")}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	for _, k := range []string{"CONFIG", "PASSPHRASE_FILE", "LOG_FORMAT", "REPOSITORY_PATH"} {
		t.Setenv("PLAKAR_GW_"+k, "")
	}
	t.Setenv("PLAKAR_GW_REPO", c.repo)
	t.Setenv("PLAKAR_GW_PASSPHRASE", "correct horse battery staple")
	t.Setenv("PLAKAR_GW_CACHE_DIR", filepath.Join(dir, "cache"))
	return c
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("plakar-gw %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit with code and returns its stderr.
func (c *cli) fails(code int, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("plakar-gw %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	return r
}

func (c *cli) jsonOf(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("plakar-gw --json %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func writeFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sourceTree makes a small tree to ingest and returns its root.
func sourceTree(t *testing.T, dir string) (root string, big []byte) {
	t.Helper()
	root = filepath.Join(dir, "src")
	big = make([]byte, 300_000)
	for i := range big {
		big[i] = byte(i*7 + i/1000)
	}
	writeFile(t, filepath.Join(root, "a.txt"), []byte("hello\n"))
	writeFile(t, filepath.Join(root, "sub", "big.bin"), big)
	writeFile(t, filepath.Join(root, "sub", "deep", "c.txt"), []byte("deep\n"))
	if err := os.Symlink("a.txt", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, big
}
