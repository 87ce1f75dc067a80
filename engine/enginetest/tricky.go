// Package enginetest owns what tests outside the engine need to build real
// repositories: the acceptance ("tricky") source tree of the engine issue,
// and a helper that initialises a folder repository and ingests into it.
// Frontend tests use it to run against the real engine, not only a fake
// Catalog; the trickytree command builds the same tree for shell scripts.
package enginetest

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Tricky sizes the tricky tree.
type Tricky struct {
	BigSize int64 // size of big.bin (random, incompressible)
	Many    int   // number of small files in many/
}

// TrickyTree builds the acceptance tree in dir, which must exist: nesting,
// empty files and directories, NFC and NFD names, spaces, URL-ish and
// shell-hostile characters, a newline in a name, symlinks (relative,
// upward, absolute, dangling, to a directory), hardlinks, a chunked
// hardlinked file, mode 000, a FIFO, setuid/setgid/sticky bits, user
// xattrs and distinct nanosecond mtimes. It reports whether user xattrs
// could be set (some filesystems refuse them).
func TrickyTree(dir string, o Tricky) (xattrs bool, err error) {
	var first error
	must := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	j := func(p string) string { return filepath.Join(dir, p) }
	file := func(p string, data []byte) { must(WriteFile(j(p), data)) }
	file("nested/a/b/c/d/deep.txt", TextData(1, 5000))
	file("nested/a/b/mid.bin", RandData(2, 300<<10))
	must(os.MkdirAll(j("empty-dir"), 0o755))
	must(os.MkdirAll(j("nested/a/empty"), 0o750))
	must(os.MkdirAll(j("empty-dir-2/also-empty"), 0o700))
	file("empty-file", nil)
	file("nested/a/b/empty-too", nil)
	must(WriteRandomFile(j("big.bin"), 3, o.BigSize))
	for i := range o.Many {
		file(fmt.Sprintf("many/f%05d", i), []byte(fmt.Sprintf("file number %d\n", i)))
	}
	file("\u00e9", []byte("NFC e-acute"))
	file("e\u0301", []byte("NFD e + combining acute"))
	file("dir with spaces/file with spaces.txt", []byte("spaces"))
	file(" leading and trailing ", []byte("edges"))
	file("%+#?&", []byte("specials"))
	file("a%20b?c=d&e#f+g", []byte("url-ish"))
	file("back\\slash", []byte("backslash"))
	file("new\nline", []byte("newline"))
	file("日本語/ファイル.txt", []byte("unicode"))
	must(os.Symlink("nested/a/b/c/d/deep.txt", j("link-rel")))
	must(os.Symlink("../../empty-file", j("nested/a/link-up")))
	must(os.Symlink("/etc/hostname", j("link-abs")))
	must(os.Symlink("does/not/exist", j("link-dangling")))
	must(os.Symlink("nested/a", j("link-dir")))
	file("hard1", []byte("hardlinked content"))
	must(os.Link(j("hard1"), j("nested/hard2")))
	must(os.Link(j("hard1"), j("many-links-3")))
	file("nested/a/pair-a", RandData(4, 400<<10)) // a chunked hardlinked file
	must(os.Link(j("nested/a/pair-a"), j("nested/a/b/pair-b")))
	file("mode000", []byte("nobody may read this"))
	must(os.Chmod(j("mode000"), 0))
	must(syscall.Mkfifo(j("fifo"), 0o640))
	file("setuid", []byte("#!/bin/sh\n"))
	must(os.Chmod(j("setuid"), 0o4755))
	file("exec.sh", []byte("#!/bin/sh\necho hi\n"))
	must(os.Chmod(j("exec.sh"), 0o755))
	must(os.Mkdir(j("setgid-dir"), 0o755))
	must(os.Chmod(j("setgid-dir"), 0o2775))
	must(os.Mkdir(j("sticky-dir"), 0o755))
	must(os.Chmod(j("sticky-dir"), 0o1777))
	file("readonly", []byte("ro"))
	must(os.Chmod(j("readonly"), 0o444))
	if first != nil {
		return false, first
	}

	xattrs = true
	for _, x := range []struct{ path, name, value string }{
		{"nested/a/b/c/d/deep.txt", "user.comment", "a comment"},
		{"nested/a/b/c/d/deep.txt", "user.empty", ""},
		{"nested", "user.dir", "on a directory"},
		{"hard1", "user.bin", "\x00\x01\xff"},
	} {
		if err := unix.Lsetxattr(j(x.path), x.name, []byte(x.value), 0); err != nil {
			if errors.Is(err, unix.ENOTSUP) {
				xattrs = false
				break
			}
			return false, err
		}
	}

	// Distinct past times with nanoseconds, set deepest first so that no
	// later change touches a directory's mtime; symlinks get their own.
	var paths []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		paths = append(paths, p)
		return err
	})
	if err != nil {
		return false, err
	}
	slices.Reverse(paths)
	for i, p := range paths {
		ts := unix.NsecToTimespec(time.Date(2003, 4, 5, 6, 7, 8, 0, time.UTC).Add(time.Duration(i)*(time.Hour+1357*time.Millisecond)).UnixNano() + int64(i%1000)*1001)
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return false, err
		}
	}
	return xattrs, nil
}

// WriteFile writes data to p, creating parent folders.
func WriteFile(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, data, 0o644)
}

// WriteRandomFile writes n pseudo-random bytes to p, streaming.
func WriteRandomFile(p string, seed uint64, n int64) error {
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = io.CopyN(w, rand.NewChaCha8(s), n)
	return errors.Join(err, w.Flush(), f.Close())
}

// RandData returns n pseudo-random bytes, fast (ChaCha8).
func RandData(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

// TextData returns n bytes of compressible, word-like text.
func TextData(seed uint64, n int) []byte {
	words := []string{"backup", "snapshot", "the", "of", "repository", "chunk", "pack", "and",
		"index", "tree", "blob", "a", "is", "deduplicated", "encrypted", "compressed", "data", "to"}
	rng := rand.New(rand.NewPCG(seed, 42))
	var b bytes.Buffer
	b.Grow(n + 32)
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}
