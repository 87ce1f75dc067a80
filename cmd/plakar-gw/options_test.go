package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// TestConfigPrecedence: a flag beats the environment, which beats the file.
func TestConfigPrecedence(t *testing.T) {
	c := newCLI(t)
	fromFile, fromEnv, fromFlag := filepath.Join(c.dir, "file"), filepath.Join(c.dir, "env"), filepath.Join(c.dir, "flag")
	cfg := filepath.Join(c.dir, "config", "plakar-gw", "config.yaml") // the default location
	writeFile(t, cfg, []byte("repository:\n  path: "+fromFile+"\n"))
	t.Setenv("PLAKAR_GW_REPO", fromEnv)

	c.ok("init", "--repo", fromFlag)
	if !exists(fromFlag) || exists(fromEnv) || exists(fromFile) {
		t.Fatal("--repo did not win")
	}
	c.ok("init")
	if !exists(fromEnv) || exists(fromFile) {
		t.Fatal("PLAKAR_GW_REPO did not beat the config file")
	}
	t.Setenv("PLAKAR_GW_REPO", "")
	c.ok("init")
	if !exists(fromFile) {
		t.Fatal("the default config file was not read")
	}
	other := filepath.Join(c.dir, "other.yaml")
	writeFile(t, other, []byte("repository:\n  path: "+fromFlag+"\n"))
	if r := c.fails(1, "--config", other, "init"); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("--config was not used: %q", r.stderr)
	}
}

func TestConfigErrors(t *testing.T) {
	c := newCLI(t)
	bad := filepath.Join(c.dir, "bad.yaml")
	writeFile(t, bad, []byte("repository:\n  path: /x\n  pasphrase_file: /y\nlog:\n  format: text\n"))
	r := c.fails(exitUsage, "--config", bad, "snapshots")
	if !strings.Contains(r.stderr, `unknown key "repository.pasphrase_file"`) {
		t.Errorf("unknown key: %q", r.stderr)
	}
	r = c.fails(exitUsage, "--config", filepath.Join(c.dir, "missing.yaml"), "snapshots")
	if !strings.Contains(r.stderr, "missing.yaml: no such file") {
		t.Errorf("missing explicit config: %q", r.stderr)
	}
	c.fails(exitUsage, "--log-format", "xml", "snapshots")
}

func TestPassphrase(t *testing.T) {
	c := newCLI(t)
	c.ok("init")
	t.Setenv("PLAKAR_GW_PASSPHRASE", "not it")
	if r := c.fails(1, "snapshots"); r.stderr != "plakar-gw: wrong passphrase\n" {
		t.Errorf("wrong passphrase: %q", r.stderr)
	}
	file := filepath.Join(c.dir, "pass")
	writeFile(t, file, []byte("correct horse battery staple\n"))
	c.ok("snapshots", "--passphrase-file", file) // the flag beats the environment

	t.Setenv("PLAKAR_GW_PASSPHRASE", "")
	r := c.fails(1, "snapshots")
	for _, want := range []string{"--passphrase-file", "PLAKAR_GW_PASSPHRASE", "terminal"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no-passphrase message lacks %q: %q", want, r.stderr)
		}
	}
	t.Setenv("PLAKAR_GW_PASSPHRASE_FILE", file)
	c.ok("snapshots")
}

func TestUsageAndMissingRepository(t *testing.T) {
	c := newCLI(t)
	c.fails(exitUsage, "ls")
	c.fails(exitUsage, "snapshots", "--bogus")
	c.fails(exitUsage, "ls", ":/path")
	r := c.fails(1, "snapshots")
	if !strings.Contains(r.stderr, "run init first") || exists(c.repo) {
		t.Errorf("missing repository: %q (created: %v)", r.stderr, exists(c.repo))
	}
	plain := t.TempDir()
	c.fails(1, "--repo", plain, "snapshots")
	if entries, _ := os.ReadDir(plain); len(entries) != 0 {
		t.Errorf("opening an ordinary folder filled it: %v", entries)
	}
	for _, cmd := range []string{"init", "ingest", "snapshots", "ls", "cat", "restore", "summary", "errors", "check", "rm", "gc"} {
		if out := c.ok(cmd, "--help"); !strings.Contains(out, "Examples:") {
			t.Errorf("%s --help has no example", cmd)
		}
	}
}
