package gateway

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildTarPlugin builds the example plugin into dir as name.
func buildTarPlugin(t *testing.T, dir, name string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, "github.com/plakar-gw/plakar-gw/importers/plugin/example/tar")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// TestPluginRegistration: a plugin in plugins.dir registers its type and
// scheme, jobs may name it, ingest locations select it by scheme; a broken
// file in the folder is listed as unusable and does not stop Load, a
// broken explicit path does; a name already taken loses; a plugin removed
// is unregistered by the next Load.
func TestPluginRegistration(t *testing.T) {
	dir := isolate(t)
	plugins := filepath.Join(dir, "plugins")
	os.MkdirAll(plugins, 0o755)
	tarBin := buildTarPlugin(t, plugins, "tar")
	os.WriteFile(filepath.Join(plugins, "README.md"), []byte("not a plugin"), 0o644)
	os.WriteFile(filepath.Join(plugins, "broken"), []byte("#!/bin/sh\necho hello\n"), 0o755)
	other := filepath.Join(dir, "elsewhere")
	os.MkdirAll(other, 0o755)
	copyFile(t, tarBin, filepath.Join(other, "tar-copy"))

	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "a.txt", Mode: 0o644, Size: 2})
	tw.Write([]byte("hi"))
	tw.Close()
	tarFile := filepath.Join(dir, "x.tar")
	os.WriteFile(tarFile, archive.Bytes(), 0o644)

	cfgFile := writeConfig(t, filepath.Join(dir, "config.yaml"), "repository:\n  path: "+filepath.Join(dir, "repo")+
		"\n  cache_dir: "+filepath.Join(dir, "cache")+
		"\nplugins:\n  dir: "+plugins+"\n  paths: ["+filepath.Join(other, "tar-copy")+"]\n"+
		"jobs:\n  - name: arch\n    importer: tar\n    source: "+tarFile+"\n    options:\n      tmpdir: /tmp\n")
	c, err := Load(LoadOptions{File: cfgFile, Flags: flags(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := ImporterFor("tar://" + tarFile); got != "tar" {
		t.Errorf("ImporterFor(tar://...) = %q", got)
	}
	imp, err := NewImporter(context.Background(), "", "tar://"+tarFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rec, err := range imp.Scan(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		_ = rec
	}
	imp.Close()
	if n != 2 || imp.Type() != "tar" {
		t.Errorf("scan through the registered plugin: %d records, type %q", n, imp.Type())
	}

	list := ListPlugins(context.Background(), c, false)
	byPath := map[string]PluginInfo{}
	for _, p := range list {
		byPath[p.Path] = p
	}
	if p := byPath[filepath.Join(other, "tar-copy")]; p.Error != "" || !p.Explicit || p.Name != "tar" {
		t.Errorf("explicit plugin: %+v; want it registered", p)
	}
	if p := byPath[tarBin]; !strings.Contains(p.Error, `the name "tar" is taken by the plugin `+filepath.Join(other, "tar-copy")) {
		t.Errorf("folder copy of the same plugin: %+v; want a name conflict", p)
	}
	if p := byPath[filepath.Join(plugins, "broken")]; !strings.Contains(p.Error, "not a plakar-gw importer plugin") {
		t.Errorf("broken file: %+v", p)
	}
	if _, ok := byPath[filepath.Join(plugins, "README.md")]; ok || len(list) != 3 {
		t.Errorf("listed %d plugins: %+v", len(list), list)
	}
	if _, err := os.Stat(filepath.Join(dir, "cache", "plugins.json")); err != nil {
		t.Errorf("no cache written: %v", err)
	}

	// An explicit path that is no plugin is an error of the configuration.
	bad := writeConfig(t, filepath.Join(dir, "bad.yaml"), "plugins:\n  paths: ["+filepath.Join(plugins, "broken")+"]\n")
	if _, err := Load(LoadOptions{File: bad, Flags: flags(t)}); err == nil || !strings.Contains(err.Error(), "plugins.paths") {
		t.Errorf("Load with a broken explicit plugin: %v", err)
	}

	// Without plugins the type is gone again.
	none := writeConfig(t, filepath.Join(dir, "none.yaml"), "plugins:\n  dir: "+filepath.Join(dir, "empty")+"\n")
	if _, err := Load(LoadOptions{File: none, Flags: flags(t)}); err != nil {
		t.Fatal(err)
	}
	if ImporterFor("tar:///x.tar") != "fs" {
		t.Error("the tar scheme is still registered after a Load without the plugin")
	}
	if _, ok := importerFactories["tar"]; ok {
		t.Error("the tar importer is still registered")
	}
}
