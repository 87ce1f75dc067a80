// Package plakargw_test keeps the architecture of DESIGN.md honest: it
// lists every package's imports and fails on an arrow the design forbids.
package plakargw_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/plakar-gw/plakar-gw/"

// allowed says which project packages a package (by prefix) may import
// directly; the first matching rule wins.
var allowed = []struct {
	pkg        string
	may        []string
	thirdParty bool
}{
	{"engine/vfs/vfstest", []string{"engine/vfs"}, false},
	{"engine/vfs", nil, false},
	{"engine/storage", []string{"engine/storage"}, true},
	// Test support: builds real repositories from real folders.
	{"engine/enginetest", []string{"engine", "importers"}, true},
	{"engine", []string{"engine", "importers"}, true},
	{"importers/fs", []string{"importers"}, true},
	{"importers/importertest", []string{"importers"}, true},
	{"importers", []string{"importers"}, true},
	{"s3api", []string{"engine/vfs"}, true},
	{"dav", []string{"engine/vfs"}, true},
	{"mount", []string{"engine/vfs"}, true},
	{"webui", []string{"engine/vfs"}, true},
	{"gateway", []string{"engine", "importers", "s3api", "dav", "mount", "webui", "gateway"}, true},
	{"cmd/plakar-gw", []string{"gateway", "engine"}, true},
	// Test support with no project imports.
	{"internal/pagecache", nil, true},
	// Benchmarks are standalone programs: any library, no project package.
	{"bench", nil, true},
}

func TestImportArrows(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], module)
		rule := -1
		for i, r := range allowed {
			if pkg == r.pkg || strings.HasPrefix(pkg, r.pkg+"/") {
				rule = i
				break
			}
		}
		if rule < 0 {
			if pkg != strings.TrimSuffix(module, "/") {
				t.Errorf("%s: no rule in arch_test.go; add one that matches DESIGN.md", pkg)
			}
			continue
		}
		for _, imp := range fields[1:] {
			checkImport(t, pkg, imp, allowed[rule].may, allowed[rule].thirdParty)
		}
	}
}

func checkImport(t *testing.T, pkg, imp string, may []string, thirdParty bool) {
	t.Helper()
	if !strings.HasPrefix(imp, module) {
		if strings.Contains(strings.Split(imp, "/")[0], ".") && !thirdParty {
			t.Errorf("%s imports %s: only the standard library is allowed here", pkg, imp)
		}
		return
	}
	rel := strings.TrimPrefix(imp, module)
	for _, m := range may {
		if rel == m || strings.HasPrefix(rel, m+"/") {
			if (pkg == "engine" || strings.HasPrefix(pkg, "engine/")) && !strings.HasPrefix(pkg, "engine/enginetest") {
				// The engine sees importers only through the interface.
				if strings.HasPrefix(rel, "importers/") {
					break
				}
			}
			return
		}
	}
	t.Errorf("%s imports %s, which DESIGN.md forbids", pkg, rel)
}
