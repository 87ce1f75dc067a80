package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type snapJSON struct {
	ID       string   `json:"id"`
	Job      string   `json:"job"`
	Tags     []string `json:"tags"`
	Origin   string   `json:"origin"`
	Complete bool     `json:"complete"`
	Summary  struct {
		Subtree struct {
			Files, Dirs, Symlinks, Bytes, Errors uint64
		} `json:"subtree"`
	} `json:"summary"`
}

var ingestLine = regexp.MustCompile(`^snapshot ([0-9a-f]{64}) \(3 files, 293\.0 KiB, 0 errors, added [0-9.]+ [KMG]?i?B\)\n$`)

func TestWorkflow(t *testing.T) {
	c := newCLI(t)
	src, big := sourceTree(t, c.dir)

	if out := c.ok("init"); !strings.Contains(out, "created repository at "+c.repo) {
		t.Errorf("init: %q", out)
	}
	if r := c.fails(1, "init"); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("second init: %q", r.stderr)
	}

	out := c.ok("ingest", "--job", "docs", "--tag", "x", "--tag", "y", src)
	m := ingestLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("ingest output %q", out)
	}
	first := m[1]
	var second struct {
		ID       string `json:"id"`
		Complete bool   `json:"complete"`
		Files    uint64 `json:"files"`
	}
	c.jsonOf(&second, "ingest", src)
	if len(second.ID) != 64 || !second.Complete || second.Files != 3 {
		t.Fatalf("ingest --json: %+v", second)
	}

	var snaps []snapJSON
	c.jsonOf(&snaps, "snapshots")
	if len(snaps) != 2 || snaps[0].ID != second.ID || snaps[1].ID != first {
		t.Fatalf("snapshots: %+v", snaps)
	}
	if s := snaps[1]; s.Job != "docs" || strings.Join(s.Tags, ",") != "x,y" || !s.Complete || s.Origin != src ||
		s.Summary.Subtree.Files != 3 || s.Summary.Subtree.Symlinks != 1 || s.Summary.Subtree.Bytes != uint64(len(big)+11) {
		t.Errorf("snapshot fields: %+v", s)
	}
	table := c.ok("snapshots")
	if !strings.HasPrefix(table, "ID ") || !strings.Contains(table, first[:12]+"  ") || !strings.Contains(table, "x,y") {
		t.Errorf("snapshots table:\n%s", table)
	}

	testReading(t, c, first, src, big)
	testRestore(t, c, src, big)
	testMaintenance(t, c, first, second.ID, big)
}

func testReading(t *testing.T, c *cli, id, src string, big []byte) {
	ls := c.ok("ls", "docs-latest")
	for _, want := range []string{"a.txt\n", "link -> a.txt\n", " sub\n", " empty\n", "drwxr-xr-x"} {
		if !strings.Contains(ls, want) {
			t.Errorf("ls lacks %q:\n%s", want, ls)
		}
	}
	var rows []struct {
		Path, Type string
		Size       int64
	}
	c.jsonOf(&rows, "ls", id[:8]+":/sub")
	if len(rows) != 2 || rows[0].Path != "sub/big.bin" || rows[0].Size != int64(len(big)) || rows[1].Type != "dir" {
		t.Errorf("ls --json: %+v", rows)
	}
	if rec := c.ok("ls", "-r", "snap-"+id[:12]); !strings.Contains(rec, " sub/deep/c.txt\n") {
		t.Errorf("ls -r:\n%s", rec)
	}
	if got := c.ok("cat", "docs-latest:/sub/big.bin"); got != string(big) {
		t.Errorf("cat: %d bytes, want %d", len(got), len(big))
	}
	if got := c.ok("cat", "latest:link"); got != "hello\n" {
		t.Errorf("cat through a symlink: %q", got)
	}
	if r := c.fails(1, "cat", "latest:/nope"); !strings.Contains(r.stderr, "/nope: no such file") {
		t.Errorf("cat missing: %q", r.stderr)
	}
	c.fails(1, "cat", "latest:sub")
	if r := c.fails(1, "ls", "ffffffffff"); !strings.Contains(r.stderr, `no snapshot matches "ffffffffff"`) {
		t.Errorf("unknown snapshot: %q", r.stderr)
	}
	var sum struct {
		Path    string
		Self    struct{ Files, Dirs uint64 }
		Subtree struct{ Files, Dirs, Bytes uint64 }
	}
	c.jsonOf(&sum, "summary", "latest:sub")
	if sum.Path != "/sub" || sum.Self.Files != 1 || sum.Self.Dirs != 1 || sum.Subtree.Files != 2 || sum.Subtree.Bytes != uint64(len(big)+5) {
		t.Errorf("summary --json: %+v", sum)
	}
	if s := c.ok("summary", "latest"); !strings.Contains(s, "whole subtree") || !strings.Contains(s, "/sub/big.bin (293.0 KiB)") {
		t.Errorf("summary:\n%s", s)
	}
	if r := c.run("errors", "latest"); r.code != 0 || r.stdout != "" {
		t.Errorf("errors: %+v", r)
	}
	var errs []any
	if c.jsonOf(&errs, "errors", "latest:sub"); len(errs) != 0 {
		t.Errorf("errors --json: %v", errs)
	}
}

func testRestore(t *testing.T, c *cli, src string, big []byte) {
	to := filepath.Join(c.dir, "restored")
	if out := c.ok("restore", "docs-latest", "--to", to); !strings.Contains(out, "restored 3 files") {
		t.Errorf("restore: %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(to, "sub", "big.bin")); err != nil || !bytes.Equal(b, big) {
		t.Errorf("restored big.bin: %v", err)
	}
	if target, err := os.Readlink(filepath.Join(to, "link")); target != "a.txt" {
		t.Errorf("restored link: %q %v", target, err)
	}
	if st, err := os.Stat(filepath.Join(to, "empty")); err != nil || !st.IsDir() {
		t.Errorf("restored empty dir: %v", err)
	}
	r := c.fails(exitPartial, "restore", "latest", "--to", to)
	if !strings.Contains(r.stderr, "restore /a.txt: create "+filepath.Join(to, "a.txt")+": file already exists (use --overwrite") {
		t.Errorf("restore over existing files: %q", r.stderr)
	}
	c.ok("restore", "latest", "--to", to, "--overwrite")
	c.ok("restore", "latest:/sub/deep/c.txt", "--to", to)
	if b, _ := os.ReadFile(filepath.Join(to, "c.txt")); string(b) != "deep\n" {
		t.Errorf("single-file restore: %q", b)
	}
	c.fails(exitUsage, "restore", "latest")
}

func testMaintenance(t *testing.T, c *cli, first, second string, big []byte) {
	if out := c.ok("check"); !strings.Contains(out, "no problems found") {
		t.Errorf("check: %q", out)
	}
	var rep struct {
		OK       bool     `json:"ok"`
		Problems []string `json:"problems"`
	}
	if c.jsonOf(&rep, "check", "--read-data"); !rep.OK || len(rep.Problems) != 0 {
		t.Errorf("check --read-data: %+v", rep)
	}
	if out := c.ok("rm", first[:10], first); out != "removed snapshot "+first+"\n" {
		t.Errorf("rm: %q", out)
	}
	if r := c.fails(1, "rm", first); !strings.Contains(r.stderr, "no snapshot matches") {
		t.Errorf("rm again: %q", r.stderr)
	}
	if out := c.ok("gc", "--dry-run"); !strings.HasPrefix(out, "would delete") {
		t.Errorf("gc --dry-run: %q", out)
	}
	if out := c.ok("gc"); !strings.HasPrefix(out, "deleted ") {
		t.Errorf("gc: %q", out)
	}
	var snaps []snapJSON
	if c.jsonOf(&snaps, "snapshots"); len(snaps) != 1 || snaps[0].ID != second {
		t.Fatalf("after rm: %+v", snaps)
	}
	if got := c.ok("cat", "latest:sub/big.bin"); got != string(big) {
		t.Error("cat after gc returned other bytes")
	}
	c.ok("check", "--read-data")
}
