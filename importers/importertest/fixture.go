// Package importertest owns the conformance suite that every
// importers.Importer must pass, and the fixture trees it runs on. It knows
// nothing about any one source: a test materialises the fixture in its
// source (a directory, an FTP server, a bucket), builds the importer, and
// calls Run.
package importertest

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Fixture describes a source tree. Paths are clean and absolute ("/a/b").
// Directories that hold files are implied; Dirs lists the empty ones.
type Fixture struct {
	Files map[string]string // path -> content
	Dirs  []string          // empty directories
}

// DefaultFixture is a small tree with the cases importers get wrong:
// nesting, empty files and directories, a directory name that is a prefix
// of a sibling's ("a" and "a b", which sort differently as names and as
// paths), unicode names that differ only by normalisation (NFC "é" is
// U+00E9, NFD is "e" + U+0301: two different files), spaces and URL-ish
// characters, a hidden file, and a file larger than common read buffers.
func DefaultFixture() Fixture {
	return Fixture{
		Files: map[string]string{
			"/hello.txt":                "hello, world\n",
			"/empty":                    "",
			"/.hidden":                  "hidden\n",
			"/big.bin":                  strings.Repeat("0123456789abcdef", 16<<10), // 256 KiB
			"/a/top.txt":                "top\n",
			"/a/b/sibling.txt":          "sibling\n",
			"/a/b/c/deep.txt":           "deep\n",
			"/a b/space name.txt":       "spaces\n",
			"/a.txt":                    "a dot txt\n",
			"/unicode/caf\u00e9.txt":    "NFC\n",
			"/unicode/cafe\u0301.txt":   "NFD\n",
			"/unicode/\u65e5\u672c.md":  "CJK\n",
			"/weird/%+#?&.txt":          "specials\n",
			"/weird/100% done? a&b.txt": "more specials\n",
		},
		Dirs: []string{"/empty-dir", "/a/b/empty"},
	}
}

// Expected returns every path the tree holds, "/" and implied parents
// included, mapped to true for a directory and false for a file.
func (f Fixture) Expected() (map[string]bool, error) {
	want := map[string]bool{"/": true}
	add := func(p string, dir bool) error {
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" {
			return fmt.Errorf("fixture path %q is not clean and absolute", p)
		}
		if isDir, ok := want[p]; ok && isDir != dir {
			return fmt.Errorf("fixture path %q is both a file and a directory", p)
		}
		want[p] = dir
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if isDir, ok := want[d]; ok && !isDir {
				return fmt.Errorf("fixture path %q is both a file and a directory", d)
			}
			want[d] = true
		}
		return nil
	}
	for p := range f.Files {
		if err := add(p, false); err != nil {
			return nil, err
		}
	}
	for _, p := range f.Dirs {
		if err := add(p, true); err != nil {
			return nil, err
		}
	}
	return want, nil
}

// Materialize writes the fixture under dir on the local filesystem, with
// directories 0755 and files 0644 whatever the umask, so that tests that
// drop privileges can read it. dir itself is included.
func Materialize(dir string, f Fixture) error {
	want, err := f.Expected()
	if err != nil {
		return err
	}
	for p, isDir := range want {
		if isDir {
			if err := mkdir(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
				return err
			}
		}
	}
	for p, content := range f.Files {
		name := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			return err
		}
		if err := os.Chmod(name, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func mkdir(name string) error {
	if err := os.MkdirAll(name, 0o755); err != nil {
		return err
	}
	return os.Chmod(name, 0o755)
}
