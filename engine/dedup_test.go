package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// Helpers shared by dedup_test.go, integrity_test.go, concurrency_test.go,
// tricky_test.go and gc_test.go.

// fsRepo creates a repository in a local folder store and opens it with a
// fresh cache. It returns the store's root folder.
func fsRepo(t *testing.T) (string, *engine.Repository) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "repo")
	st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
	if err != nil {
		t.Fatal(err)
	}
	r := newRepo(t, st)
	t.Cleanup(func() { r.Close() })
	return root, r
}

// reopenFS opens the repository at root through a new store and a new,
// empty cache, as another process would.
func reopenFS(t *testing.T, root string) (*engine.Repository, error) {
	t.Helper()
	st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
	if err != nil {
		t.Fatal(err)
	}
	r, err := engine.Open(context.Background(), st, engine.Options{Passphrase: pass, CacheDir: t.TempDir()})
	if err == nil {
		t.Cleanup(func() { r.Close() })
	}
	return r, err
}

func mustReopenFS(t *testing.T, root string) *engine.Repository {
	t.Helper()
	r, err := reopenFS(t, root)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// repoBytes is the sum of the sizes of every file under root.
func repoBytes(t *testing.T, root string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// packFiles returns the path of every pack under root with its size.
func packFiles(t *testing.T, root string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	err := filepath.WalkDir(filepath.Join(root, "packs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			out[p] = info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ingestOpts ingests dir with options.
func ingestOpts(t *testing.T, r *engine.Repository, dir string, o engine.IngestOptions) *snapshot.Snapshot {
	t.Helper()
	ctx := context.Background()
	imp, err := fsimporter.New(ctx, fsimporter.Config{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	s, err := r.Ingest(ctx, imp, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	randData = enginetest.RandData
	textData = enginetest.TextData
)

// checkClean runs check and fails on any problem.
func checkClean(t *testing.T, r *engine.Repository, readData bool) *engine.CheckReport {
	t.Helper()
	rep, err := r.Check(context.Background(), engine.CheckOptions{ReadData: readData})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) > 0 {
		t.Fatalf("check (ReadData=%v) found problems:\n%s", readData, strings.Join(rep.Problems, "\n"))
	}
	return rep
}

// sameFile compares a snapshot file with a local file, streaming.
func sameFile(fsys fs.FS, name, local string) error {
	f, err := fsys.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	l, err := os.Open(local)
	if err != nil {
		return err
	}
	defer l.Close()
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	var off int64
	for {
		na, erra := io.ReadFull(f, a)
		nb, errb := io.ReadFull(l, b)
		if erra != nil && erra != io.EOF && erra != io.ErrUnexpectedEOF {
			return erra
		}
		if errb != nil && errb != io.EOF && errb != io.ErrUnexpectedEOF {
			return errb
		}
		if na != nb || !bytes.Equal(a[:na], b[:nb]) {
			return fmt.Errorf("%s: content differs in the MiB at offset %d (%d vs %d bytes)", name, off, na, nb)
		}
		if na < len(a) {
			return nil
		}
		off += int64(na)
	}
}

// sameContent checks that every regular file and symlink of the local tree
// dir reads back identically from fsys, and that fsys has nothing more.
func sameContent(t *testing.T, fsys vfs.FS, dir string) {
	t.Helper()
	local := map[string]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		local[rel] = true
		switch {
		case d.Type().IsRegular():
			if err := sameFile(fsys, rel, p); err != nil {
				t.Errorf("%s: %v", rel, err)
			}
		case d.Type()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(p)
			if got, err := fsys.ReadLink(rel); err != nil || got != want {
				t.Errorf("%s: link %q, %v; want %q", rel, got, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for e, err := range fsys.Walk(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if !local[strings.TrimSuffix(e.Key, "/")] {
			t.Errorf("snapshot has %q, the source does not", e.Key)
		}
	}
	if n != len(local)-1 { // the root is not walked
		t.Errorf("snapshot has %d entries, the source %d", n, len(local)-1)
	}
}

// dedupTree writes about 64 MiB: random and text files of several sizes,
// and small files.
//
// Under the race detector, which makes chunking and hashing many times
// slower, the sizes are divided by four.
func dedupTree(t *testing.T, dir string) (size, random int64, files int) {
	scale := 1
	if raceEnabled() {
		scale = 4
	}
	big := []struct {
		name string
		n    int
		text bool
	}{
		{"r1.bin", 20 << 20, false}, {"r2.bin", 12 << 20, false}, {"r3.bin", 7 << 20, false},
		{"sub/r4.bin", 5 << 20, false}, {"sub/deep/r5.bin", 3 << 20, false},
		{"t1.txt", 8 << 20, true}, {"sub/t2.txt", 5 << 20, true}, {"t3.txt", 3 << 20, true},
	}
	for i, f := range big {
		f.n /= scale
		var data []byte
		if f.text {
			data = textData(uint64(i), f.n)
		} else {
			data = randData(uint64(100+i), f.n)
			random += int64(f.n)
		}
		writeFile(t, filepath.Join(dir, f.name), data)
		size += int64(f.n)
		files++
	}
	for i := range 60 {
		n := 100 + i*997
		var data []byte
		if i%2 == 0 {
			data = randData(uint64(1000+i), n)
			random += int64(n)
		} else {
			data = textData(uint64(1000+i), n)
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("small/%02d/f%d", i%7, i)), data)
		size += int64(n)
		files++
	}
	return size, random, files
}

// TestDedupUnchangedTree: re-ingesting an unchanged tree stores next to
// nothing, both through the parent snapshot shortcut and when every file is
// read and chunked again.
func TestDedupUnchangedTree(t *testing.T) {
	src := t.TempDir()
	size, random, files := dedupTree(t, src)
	root, r := fsRepo(t)
	s1 := ingestOpts(t, r, src, engine.IngestOptions{})
	after1 := repoBytes(t, root)
	if after1 < random || after1 > size {
		t.Fatalf("first ingest: repository is %d bytes for %d bytes of source (%d random)", after1, size, random)
	}
	if int64(s1.Header.Stats.StoredAdded) > after1 || int64(s1.Header.Stats.StoredAdded) < random {
		t.Fatalf("first ingest: StoredAdded %d, repository %d", s1.Header.Stats.StoredAdded, after1)
	}
	limit := size / 1000

	for _, noParent := range []bool{false, true} {
		before := repoBytes(t, root)
		p := &engine.Progress{}
		s := ingestOpts(t, r, src, engine.IngestOptions{NoParent: noParent, Progress: p})
		growth := repoBytes(t, root) - before
		t.Logf("NoParent=%v: repository grew by %d bytes (limit %d); StoredAdded %d, reused %d files",
			noParent, growth, limit, s.Header.Stats.StoredAdded, p.Reused.Load())
		if growth >= limit {
			t.Errorf("NoParent=%v: repository grew by %d bytes, want < %d", noParent, growth, limit)
		}
		if int64(s.Header.Stats.StoredAdded) >= limit {
			t.Errorf("NoParent=%v: StoredAdded %d, want < %d", noParent, s.Header.Stats.StoredAdded, limit)
		}
		wantReused := uint64(files)
		if noParent {
			wantReused = 0 // every file was read and chunked again
		}
		if p.Reused.Load() != wantReused || p.Files.Load() != uint64(files) || p.Bytes.Load() != uint64(size) {
			t.Errorf("NoParent=%v: progress files %d bytes %d reused %d; want %d, %d, %d",
				noParent, p.Files.Load(), p.Bytes.Load(), p.Reused.Load(), files, size, wantReused)
		}
		if s.Header.Root != s1.Header.Root {
			t.Errorf("NoParent=%v: root tree %s differs from the first snapshot's %s", noParent, s.Header.Root, s1.Header.Root)
		}
		sameContent(t, r.SnapshotFS(context.Background(), s), src)
	}
}

// TestDedupInsertion: 1 KiB inserted in the middle of a 100 MiB file costs
// a few chunks, not the file.
func TestDedupInsertion(t *testing.T) {
	size := 100 << 20
	if raceEnabled() {
		size = 32 << 20 // chunking is many times slower under the race detector
	}
	src := t.TempDir()
	data := randData(7, size)
	p := filepath.Join(src, "big.bin")
	writeFile(t, p, data)
	root, r := fsRepo(t)
	ingestOpts(t, r, src, engine.IngestOptions{})
	before := repoBytes(t, root)
	if before < int64(size) {
		t.Fatalf("repository is %d bytes after ingesting %d random bytes", before, size)
	}

	mid := size/2 + 12345
	changed := make([]byte, 0, size+1024)
	changed = append(changed, data[:mid]...)
	changed = append(changed, randData(8, 1024)...)
	changed = append(changed, data[mid:]...)
	data = nil
	writeFile(t, p, changed)

	for _, noParent := range []bool{false, true} {
		s := ingestOpts(t, r, src, engine.IngestOptions{NoParent: noParent})
		after := repoBytes(t, root)
		t.Logf("NoParent=%v: repository grew by %d bytes; StoredAdded %d", noParent, after-before, s.Header.Stats.StoredAdded)
		if after-before >= 4<<20 {
			t.Errorf("NoParent=%v: repository grew by %d bytes after a 1 KiB insertion, want < 4 MiB", noParent, after-before)
		}
		if noParent && s.Header.Stats.StoredAdded > 64<<10 {
			t.Errorf("the same changed file ingested again stored %d bytes", s.Header.Stats.StoredAdded)
		}
		got, err := fs.ReadFile(r.SnapshotFS(context.Background(), s), "big.bin")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, changed) {
			t.Fatal("the changed file does not read back identically")
		}
	}
}

// TestDedupSameContentTwoNames: one ingest holding the same content under
// several names stores it once.
func TestDedupSameContentTwoNames(t *testing.T) {
	src := t.TempDir()
	big := randData(11, 6<<20)
	small := randData(12, 10<<10)
	for _, n := range []string{"one.bin", "two.bin", "sub/three.bin"} {
		writeFile(t, filepath.Join(src, n), big)
	}
	for _, n := range []string{"s1", "sub/s2"} {
		writeFile(t, filepath.Join(src, n), small)
	}
	root, r := fsRepo(t)
	s := ingestOpts(t, r, src, engine.IngestOptions{})
	once := int64(len(big) + len(small))
	stored := int64(s.Header.Stats.StoredAdded)
	total := repoBytes(t, root)
	t.Logf("content %d bytes once, StoredAdded %d, repository %d", once, stored, total)
	if stored < once || stored > once+once/50 {
		t.Errorf("StoredAdded %d; want the content once: %d bytes plus a little", stored, once)
	}
	if total > once+once/50+(64<<10) {
		t.Errorf("repository is %d bytes; want about %d", total, once)
	}
	fsys := r.SnapshotFS(context.Background(), s)
	etag := func(name string) string {
		info, err := fsys.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		sys, ok := info.Sys().(*vfs.Sys)
		if !ok || sys.ETag == "" {
			t.Fatalf("%s: no ETag in %#v", name, info.Sys())
		}
		return sys.ETag
	}
	if a, b, c := etag("one.bin"), etag("two.bin"), etag("sub/three.bin"); a != b || b != c {
		t.Errorf("same content, different ETags: %s %s %s", a, b, c)
	}
	if etag("s1") != etag("sub/s2") || etag("s1") == etag("one.bin") {
		t.Error("small file ETags are wrong")
	}
	sameContent(t, fsys, src)
	if _, err := fsys.Stat("missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat missing: %v", err)
	}
}
