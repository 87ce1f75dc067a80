package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// repoCopyRoundTrip copies the CLI's repository to dst, then checks that
// the copy opens with the same passphrase and restores the same bytes.
func repoCopyRoundTrip(t *testing.T, c *cli, dst string) {
	t.Helper()
	src := filepath.Join(c.dir, "src")
	if err := enginetest.WriteFile(filepath.Join(src, "a/b.txt"), []byte("copied")); err != nil {
		t.Fatal(err)
	}
	if err := enginetest.WriteRandomFile(filepath.Join(src, "big.bin"), 3, 20<<20); err != nil {
		t.Fatal(err)
	}
	c.ok("ingest", "--job", "copyme", src)
	before := c.ok("snapshots")
	out := c.ok("repo", "copy", os.Getenv("PLAKAR_GW_REPO"), dst)
	if !strings.Contains(out, "0 problems") {
		t.Errorf("repo copy: %s", out)
	}
	// Again: everything is there already.
	if r := c.run("repo", "copy", os.Getenv("PLAKAR_GW_REPO"), dst); r.code == 0 || !strings.Contains(r.stderr, "already holds a repository") {
		t.Errorf("copy onto a repository: exit %d %s", r.code, r.stderr)
	}
	t.Setenv("PLAKAR_GW_REPO", dst)
	t.Setenv("PLAKAR_GW_CACHE_DIR", filepath.Join(c.dir, "cache-copy"))
	if after := c.ok("snapshots"); after != before {
		t.Errorf("snapshots of the copy:\n%s\nwant:\n%s", after, before)
	}
	restored := filepath.Join(c.dir, "restored")
	c.ok("restore", "copyme-latest", "--to", restored)
	for _, p := range []string{"a/b.txt", "big.bin"} {
		want, _ := os.ReadFile(filepath.Join(src, p))
		got, err := os.ReadFile(filepath.Join(restored, p))
		if err != nil || string(got) != string(want) {
			t.Errorf("%s from the copy: %d bytes, %v", p, len(got), err)
		}
	}
}

func TestRepoCopyFolderToFolder(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	repoCopyRoundTrip(t, c, filepath.Join(c.dir, "copy"))
}
