package engine_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/storage/mem"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

var pass = []byte("correct horse")

func newRepo(t *testing.T, st storage.Store) *engine.Repository {
	t.Helper()
	ctx := context.Background()
	if err := engine.Init(ctx, st, pass); err != nil {
		t.Fatal(err)
	}
	return openRepo(t, st)
}

func openRepo(t *testing.T, st storage.Store) *engine.Repository {
	t.Helper()
	r, err := engine.Open(context.Background(), st, engine.Options{Passphrase: pass, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func ingest(t *testing.T, r *engine.Repository, dir string) *snapshot.Snapshot {
	t.Helper()
	ctx := context.Background()
	imp, err := fsimporter.New(ctx, fsimporter.Config{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	s, err := r.Ingest(ctx, imp, engine.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func smallTree(t *testing.T) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.txt"), []byte("hello"))
	writeFile(t, filepath.Join(dir, "sub", "b.bin"), randBytes(1, 3<<20))
	writeFile(t, filepath.Join(dir, "sub", "deeper", "c"), []byte(strings.Repeat("text ", 1000)))
	writeFile(t, filepath.Join(dir, "empty"), nil)
	os.Mkdir(filepath.Join(dir, "emptydir"), 0o755)
	os.Symlink("a.txt", filepath.Join(dir, "link"))
	os.Symlink("/nowhere", filepath.Join(dir, "abs"))
	return dir
}

func TestRoundTripFSTest(t *testing.T) {
	dir := smallTree(t)
	r := newRepo(t, mem.New())
	defer r.Close()
	s := ingest(t, r, dir)
	fsys := r.SnapshotFS(context.Background(), s)
	// fstest opens every entry, and a dangling link cannot be opened (as
	// with os.DirFS): check it on a snapshot without one.
	os.Remove(filepath.Join(dir, "abs"))
	if err := fstest.TestFS(r.SnapshotFS(context.Background(), ingest(t, r, dir)), "a.txt", "sub/b.bin", "sub/deeper/c", "empty", "emptydir", "link"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.txt", "sub/b.bin", "sub/deeper/c", "empty"} {
		got, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := os.ReadFile(filepath.Join(dir, name))
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: content differs", name)
		}
	}
	if target, err := fsys.ReadLink("abs"); err != nil || target != "/nowhere" {
		t.Fatalf("readlink abs = %q, %v", target, err)
	}
	if _, err := fsys.Stat("abs"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat of an escaping link: %v, want ErrNotExist", err)
	}
	sum, err := fsys.Summary(".")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Subtree.Files != 4 || sum.Subtree.Dirs != 3 || sum.Subtree.Symlinks != 2 || sum.Self.Files != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.Subtree.LargestFile != "/sub/b.bin" || sum.Subtree.LargestSize != 3<<20 {
		t.Fatalf("largest %q %d", sum.Subtree.LargestFile, sum.Subtree.LargestSize)
	}
}

func TestReadAtRandom(t *testing.T) {
	dir := t.TempDir()
	data := randBytes(7, 9<<20)
	writeFile(t, filepath.Join(dir, "big"), data)
	r := newRepo(t, mem.New())
	defer r.Close()
	s := ingest(t, r, dir)
	f, err := r.SnapshotFS(context.Background(), s).Open("big")
	if err != nil {
		t.Fatal(err)
	}
	ra := f.(vfs.File)
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < 200; i++ {
		off := rng.Int64N(int64(len(data)))
		n := rng.IntN(3 << 20)
		buf := make([]byte, n)
		got, err := ra.ReadAt(buf, off)
		want := min(n, len(data)-int(off))
		if got != want || (err != nil && err != io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v; want %d", n, off, got, err, want)
		}
		if !bytes.Equal(buf[:got], data[off:off+int64(got)]) {
			t.Fatalf("ReadAt(%d, %d): wrong bytes", n, off)
		}
	}
}

func TestWalkOrderAndSeek(t *testing.T) {
	dir := t.TempDir()
	names := []string{"a", "a-b", "a.b", "a/x", "a/y/z", "a0", "b/", "b/c", "é", "e\u0301", "sp ace", "%+#?&"}
	for _, n := range names {
		if strings.HasSuffix(n, "/") {
			os.MkdirAll(filepath.Join(dir, n), 0o755)
			continue
		}
		p := filepath.Join(dir, n)
		if n == "a" {
			continue // "a" is a directory here
		}
		writeFile(t, p, []byte(n))
	}
	r := newRepo(t, mem.New())
	defer r.Close()
	s := ingest(t, r, dir)
	fsys := r.SnapshotFS(context.Background(), s)
	var keys []string
	for e, err := range fsys.Walk(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, e.Key)
	}
	if !slices.IsSorted(keys) {
		t.Fatalf("walk not in byte order: %q", keys)
	}
	for i := -1; i < len(keys); i++ {
		after := ""
		if i >= 0 {
			after = keys[i]
		}
		var got []string
		for e, err := range fsys.Walk(context.Background(), after) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Key)
		}
		if !slices.Equal(got, keys[i+1:]) {
			t.Fatalf("walk after %q = %q, want %q", after, got, keys[i+1:])
		}
	}
	// Seeks to keys that do not exist land in the right place too.
	for _, after := range []string{"a/", "a/x0", "a/y/", "a.", "zzz", "b/c/d"} {
		var got []string
		for e, err := range fsys.Walk(context.Background(), after) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Key)
		}
		i, _ := slices.BinarySearch(keys, after)
		if i < len(keys) && keys[i] == after {
			i++
		}
		if !slices.Equal(got, keys[i:]) {
			t.Fatalf("walk after %q = %q, want %q", after, got, keys[i:])
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	st := mem.New()
	r := newRepo(t, st)
	r.Close()
	_, err := engine.Open(context.Background(), st, engine.Options{Passphrase: []byte("nope"), CacheDir: t.TempDir()})
	if !errors.Is(err, engine.ErrWrongPassphrase) {
		t.Fatalf("got %v, want ErrWrongPassphrase", err)
	}
}

// Every compression setting round-trips, and blobs of a repository read
// back whatever the setting that wrote them.
func TestCompressionSettings(t *testing.T) {
	dir := smallTree(t)
	for _, c := range []string{"zstd", "s2", "none"} {
		t.Run(c, func(t *testing.T) {
			st := mem.New()
			ctx := context.Background()
			if err := engine.InitWith(ctx, st, pass, engine.InitOptions{Compression: c}); err != nil {
				t.Fatal(err)
			}
			r := openRepo(t, st)
			defer r.Close()
			s := ingest(t, r, dir)
			got, err := fs.ReadFile(r.SnapshotFS(ctx, s), "sub/deeper/c")
			if err != nil || string(got) != strings.Repeat("text ", 1000) {
				t.Fatalf("read back: %v", err)
			}
			if c == "none" && s.Header.Stats.StoredAdded < 5000 {
				t.Fatalf("none stored %d bytes: text was compressed", s.Header.Stats.StoredAdded)
			}
			rep, err := r.Check(ctx, engine.CheckOptions{ReadData: true})
			if err != nil || len(rep.Problems) > 0 {
				t.Fatalf("check: %v %v", err, rep.Problems)
			}
		})
	}
	if err := engine.InitWith(context.Background(), mem.New(), pass, engine.InitOptions{Compression: "lzma"}); err == nil {
		t.Fatal("an unknown compression was accepted")
	}
}

// Both ciphers round-trip, damage is caught under each, and a repository
// remembers its cipher (the one made before XAES, without a cipher in its
// config, is XChaCha20-Poly1305 through the same path).
func TestCipherSettings(t *testing.T) {
	dir := smallTree(t)
	for _, c := range []string{"xaes-256-gcm", "xchacha20-poly1305"} {
		t.Run(c, func(t *testing.T) {
			root := t.TempDir()
			st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := engine.InitWith(ctx, st, pass, engine.InitOptions{Cipher: c}); err != nil {
				t.Fatal(err)
			}
			cfg, err := os.ReadFile(filepath.Join(root, "config", "config"))
			if err != nil || !strings.Contains(string(cfg), `"cipher": "`+c+`"`) {
				t.Fatalf("config does not name %s: %s %v", c, cfg, err)
			}
			r := openRepo(t, st)
			s := ingest(t, r, dir)
			r.Close()
			r = openRepo(t, st)
			defer r.Close()
			got, err := fs.ReadFile(r.SnapshotFS(ctx, s), "sub/deeper/c")
			if err != nil || string(got) != strings.Repeat("text ", 1000) {
				t.Fatalf("read back: %v", err)
			}
			if rep, err := r.Check(ctx, engine.CheckOptions{ReadData: true}); err != nil || len(rep.Problems) > 0 {
				t.Fatalf("check: %v %v", err, rep.Problems)
			}
			enginetest.DamageLargestPack(t, root)
			if rep, err := r.Check(ctx, engine.CheckOptions{ReadData: true}); err != nil || len(rep.Problems) == 0 {
				t.Fatalf("check after damage: %v, no problem found", err)
			}
		})
	}
	if err := engine.InitWith(context.Background(), mem.New(), pass, engine.InitOptions{Cipher: "rot13"}); err == nil {
		t.Fatal("an unknown cipher was accepted")
	}
}
