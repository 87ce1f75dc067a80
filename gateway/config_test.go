package gateway

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// isolate clears every variable Load reads and returns a temp folder.
func isolate(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv(EnvConfig, "")
	t.Setenv(EnvPassphrase, "")
	for _, k := range keys {
		for _, e := range k.env {
			t.Setenv(e, "")
		}
	}
	return dir
}

func writeConfig(t *testing.T, p, body string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func flags(t *testing.T, args ...string) map[string]*pflag.Flag {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	fs.String("repo", "", "")
	fs.String("passphrase-file", "", "")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return map[string]*pflag.Flag{"repository.path": fs.Lookup("repo"), "repository.passphrase_file": fs.Lookup("passphrase-file")}
}

func TestLoadPrecedence(t *testing.T) {
	dir := isolate(t)
	c, err := Load(LoadOptions{Flags: flags(t)})
	if err != nil || c.Repository.Path != filepath.Join(dir, "data", "plakar-gw", "repo") || c.Log.Format != "text" || c.File != "" {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	file := writeConfig(t, filepath.Join(dir, "config", "plakar-gw", "config.yaml"),
		"repository:\n  path: /file\n  cache_dir: /cache\nlog:\n  format: json\n")
	c, err = Load(LoadOptions{Flags: flags(t)})
	if err != nil || c.Repository.Path != "/file" || c.Repository.CacheDir != "/cache" || c.Log.Format != "json" || c.File != file {
		t.Fatalf("file: %+v %v", c, err)
	}
	t.Setenv("PLAKAR_GW_REPO", "/env")
	if c, err = Load(LoadOptions{Flags: flags(t)}); err != nil || c.Repository.Path != "/env" || c.Repository.CacheDir != "/cache" {
		t.Fatalf("env: %+v %v", c, err)
	}
	if c, err = Load(LoadOptions{Flags: flags(t, "--repo", "/flag")}); err != nil || c.Repository.Path != "/flag" {
		t.Fatalf("flag: %+v %v", c, err)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := isolate(t)
	if _, err := Load(LoadOptions{File: filepath.Join(dir, "nope.yaml")}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("explicit missing file: %v", err)
	}
	bad := writeConfig(t, filepath.Join(dir, "bad.yaml"), "repository:\n  path: /x\nlisten: :8080\n")
	if _, err := Load(LoadOptions{File: bad}); err == nil || !strings.Contains(err.Error(), `unknown key "listen"`) {
		t.Errorf("unknown key: %v", err)
	}
	t.Setenv(EnvConfig, writeConfig(t, filepath.Join(dir, "env.yaml"), "repository:\n  path: /from-env-file\n"))
	if c, err := Load(LoadOptions{}); err != nil || c.Repository.Path != "/from-env-file" {
		t.Errorf("$%s: %+v %v", EnvConfig, c, err)
	}
	etc := writeConfig(t, filepath.Join(dir, "x.yaml"), "log:\n  format: xml\n")
	if _, err := Load(LoadOptions{File: etc}); err == nil || !strings.Contains(err.Error(), "xml") {
		t.Errorf("bad log format: %v", err)
	}
}

func TestPassphraseOrder(t *testing.T) {
	dir := isolate(t)
	fromFlag := writeConfig(t, filepath.Join(dir, "flag"), "flag-secret\n")
	fromConfig := writeConfig(t, filepath.Join(dir, "conf"), "config-secret\r\n")
	cfgFile := writeConfig(t, filepath.Join(dir, "c.yaml"), "repository:\n  passphrase_file: "+fromConfig+"\n")
	get := func(args ...string) string {
		t.Helper()
		c, err := Load(LoadOptions{File: cfgFile, Flags: flags(t, args...)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.Passphrase(false)
		if err != nil {
			return "error: " + err.Error()
		}
		return string(p)
	}
	t.Setenv(EnvPassphrase, "env-secret")
	if got := get("--passphrase-file", fromFlag); got != "flag-secret" {
		t.Errorf("flag: %q", got)
	}
	if got := get(); got != "env-secret" {
		t.Errorf("env over config file: %q", got)
	}
	t.Setenv(EnvPassphrase, "")
	if got := get(); got != "config-secret" {
		t.Errorf("config file: %q", got)
	}
	c := &Config{}
	if _, err := c.Passphrase(false); !errors.Is(err, ErrNoPassphrase) {
		t.Errorf("nothing: %v", err)
	}
}

func TestPrompt(t *testing.T) {
	isolate(t)
	answers := []string{"a", "b"}
	c := &Config{Prompt: func(string) ([]byte, error) { a := answers[0]; answers = answers[1:]; return []byte(a), nil }}
	if _, err := c.Passphrase(true); err == nil || !strings.Contains(err.Error(), "do not match") {
		t.Errorf("mismatch: %v", err)
	}
	answers = []string{"same", "same"}
	if p, err := c.Passphrase(true); err != nil || string(p) != "same" {
		t.Errorf("confirmed: %q %v", p, err)
	}
}

// TestExampleConfig keeps config.example.yaml loadable and complete.
func TestExampleConfig(t *testing.T) {
	isolate(t)
	example := filepath.Join("..", "config.example.yaml")
	if _, err := Load(LoadOptions{File: example}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range Keys() {
		leaf := k[strings.LastIndex(k, ".")+1:]
		if !strings.Contains(string(b), leaf+":") {
			t.Errorf("config.example.yaml does not document %s", k)
		}
	}
}
