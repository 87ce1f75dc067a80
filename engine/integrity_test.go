package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// integrityFixture is a repository in a folder with two snapshots of two
// source trees: five packs (three data, two tree).
type integrityFixture struct {
	root     string
	srcs     []string
	snaps    []*snapshot.Snapshot
	packs    []string // paths, sorted
	largest  string
	treePack map[string]bool
}

func newIntegrityFixture(t *testing.T) *integrityFixture {
	t.Helper()
	f := &integrityFixture{treePack: map[string]bool{}}
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(a, "big.bin"), randData(21, 17<<20)) // more than one pack
	writeFile(t, filepath.Join(a, "sub", "mid.bin"), randData(22, 3<<20))
	writeFile(t, filepath.Join(a, "sub", "deep", "text.txt"), textData(23, 400<<10))
	for i := range 8 {
		writeFile(t, filepath.Join(a, "small", fmt.Sprintf("s%d", i)), randData(uint64(30+i), 1000+i*300))
	}
	writeFile(t, filepath.Join(b, "other.bin"), randData(24, 2<<20))
	writeFile(t, filepath.Join(b, "d", "note.txt"), []byte("a note"))
	f.srcs = []string{a, b}

	root, r := fsRepo(t)
	f.root = root
	for _, src := range f.srcs {
		before := packFiles(t, root)
		f.snaps = append(f.snaps, ingest(t, r, src))
		// The pack of an ingest holding tree nodes is its smallest one:
		// tree nodes here are a few KiB, data packs at least 1 MiB.
		var newest []string
		for p := range packFiles(t, root) {
			if _, ok := before[p]; !ok {
				newest = append(newest, p)
			}
		}
		after := packFiles(t, root)
		slices.SortFunc(newest, func(x, y string) int { return int(after[x] - after[y]) })
		if after[newest[0]] > 64<<10 || after[newest[1]] < 1<<20 {
			t.Fatalf("unexpected pack sizes %v", after)
		}
		f.treePack[newest[0]] = true
	}
	sizes := packFiles(t, root)
	for p := range sizes {
		f.packs = append(f.packs, p)
		if f.largest == "" || sizes[p] > sizes[f.largest] {
			f.largest = p
		}
	}
	slices.Sort(f.packs)
	if len(f.packs) != 5 {
		t.Fatalf("%d packs, want 5 (3 data, 2 tree): %v", len(f.packs), sizes)
	}
	return f
}

// readPrefix reads a snapshot file to the end or the first error and
// returns what it read.
func readPrefix(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []byte
	buf := make([]byte, 200<<10)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// readAllChecked reads every file of every source tree through the
// snapshots of r. A file either reads back identically or fails with
// vfs.ErrCorrupt after a correct prefix. It returns the failures by path.
func (f *integrityFixture) readAllChecked(t *testing.T, r *engine.Repository) map[string]error {
	t.Helper()
	failed := map[string]error{}
	for i, src := range f.srcs {
		fsys := r.SnapshotFS(context.Background(), f.snaps[i])
		filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(src, p)
			want, _ := os.ReadFile(p)
			got, err := readPrefix(fsys, filepath.ToSlash(rel))
			key := fmt.Sprintf("%d:%s", i, rel)
			if err != nil {
				failed[key] = err
				if !errors.Is(err, vfs.ErrCorrupt) {
					t.Errorf("%s: error %v does not wrap vfs.ErrCorrupt", key, err)
				}
			}
			if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) || err == nil && len(got) != len(want) {
				t.Errorf("%s: read %d bytes (err %v) that are not the source's (%d bytes)", key, len(got), err, len(want))
			}
			return nil
		})
	}
	return failed
}

// walkAll walks every snapshot and returns the first error of each.
func (f *integrityFixture) walkAll(r *engine.Repository) []error {
	var errs []error
	for _, s := range f.snaps {
		var first error
		for _, err := range r.SnapshotFS(context.Background(), s).Walk(context.Background(), "") {
			if err != nil {
				first = err
				break
			}
		}
		errs = append(errs, first)
	}
	return errs
}

var damagedRE = regexp.MustCompile(`pack ([0-9a-f]{64}): damaged blob ([0-9a-f]{64}) at offset (\d+): (data|tree) blob ([0-9a-f]{64})`)

type damaged struct {
	pack, id, typ string
	offset        int64
}

func damagedBlobs(t *testing.T, rep *engine.CheckReport) []damaged {
	var out []damaged
	for _, p := range rep.Problems {
		if m := damagedRE.FindStringSubmatch(p); m != nil {
			off, _ := strconv.ParseInt(m[3], 10, 64)
			if m[2] != m[5] {
				t.Errorf("problem names two blobs: %s", p)
			}
			out = append(out, damaged{pack: m[1], id: m[2], typ: m[4], offset: off})
		}
	}
	return out
}

func mustCheck(t *testing.T, r *engine.Repository, readData bool) *engine.CheckReport {
	t.Helper()
	rep, err := r.Check(context.Background(), engine.CheckOptions{ReadData: readData})
	if err != nil {
		t.Fatalf("check (ReadData=%v): %v", readData, err)
	}
	return rep
}

func anyContains(list []string, sub string) bool {
	return slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, sub) })
}

// TestIntegrity damages a repository in a folder in many ways, one at a
// time, each subtest restoring what it damaged. Reopening always uses a
// fresh cache, so that what is tested is the repository, not the cache.
func TestIntegrity(t *testing.T) {
	f := newIntegrityFixture(t)
	t.Run("FlippedBytes", func(t *testing.T) { integrityFlippedBytes(t, f) })
	t.Run("FooterFlip", func(t *testing.T) { integrityFooterFlip(t, f) })
	t.Run("TruncatedPack", func(t *testing.T) { integrityTruncatedPack(t, f) })
	t.Run("SnapshotHeader", func(t *testing.T) { integritySnapshotHeader(t, f) })
	t.Run("IndexDelta", func(t *testing.T) { integrityIndexDelta(t, f) })
}

// integrityFlippedBytes flips one byte inside a blob of every pack (the
// first blob, which starts at offset 0, and the middle of the largest pack)
// and checks that check names the blob, that reads fail with ErrCorrupt and
// never return wrong bytes, and that the repository is clean again once the
// byte is restored.
func integrityFlippedBytes(t *testing.T, f *integrityFixture) {
	rng := rand.New(rand.NewPCG(5, 5))
	type flip struct {
		path string
		off  int64
	}
	var flips []flip
	for _, p := range f.packs {
		flips = append(flips, flip{p, rng.Int64N(crypto.Overhead)}) // inside the first blob
	}
	size := packFiles(t, f.root)[f.largest]
	flips = append(flips, flip{f.largest, size/2 + rng.Int64N(1000)})

	for _, fl := range flips {
		name := filepath.Base(fl.path)
		t.Run(fmt.Sprintf("%s@%d", name[:8], fl.off), func(t *testing.T) {
			orig, err := os.ReadFile(fl.path)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(orig)
			bad[fl.off] ^= byte(1 + rng.IntN(255))
			if err := os.WriteFile(fl.path, bad, 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(fl.path, orig, 0o600)

			r := mustReopenFS(t, f.root)
			rep := mustCheck(t, r, true)
			dmg := damagedBlobs(t, rep)
			if len(dmg) != 1 {
				t.Fatalf("check names %d damaged blobs, want 1; problems:\n%s", len(dmg), strings.Join(rep.Problems, "\n"))
			}
			d := dmg[0]
			if d.pack != name || d.offset > fl.off || fl.off < crypto.Overhead && d.offset != 0 {
				t.Fatalf("damaged blob %+v; want one in pack %s covering offset %d", d, name, fl.off)
			}
			if want := map[bool]string{true: "tree", false: "data"}[f.treePack[fl.path]]; d.typ != want {
				t.Fatalf("damaged blob is a %s blob; pack %s holds %s blobs", d.typ, name, want)
			}

			// A damaged node is never cached, so the same repository
			// still reads the pack.
			structure := mustCheck(t, r, false)
			failed := f.readAllChecked(t, r)
			walkErrs := f.walkAll(r)
			if d.typ == "data" {
				if len(structure.Problems) > 0 {
					t.Errorf("check without ReadData: a damaged data blob is not a structural problem:\n%s", strings.Join(structure.Problems, "\n"))
				}
				if len(failed) == 0 {
					t.Fatal("every file read back although one of their blobs is damaged")
				}
				for p, err := range failed {
					if !strings.Contains(err.Error(), d.id) {
						t.Errorf("%s: error %q does not name the damaged blob %s", p, err, d.id)
					}
				}
				for i, err := range walkErrs {
					if err != nil {
						t.Errorf("walk of snapshot %d: %v", i, err)
					}
				}
				return
			}
			// A damaged tree node: the structure check finds it, and the
			// snapshot that uses it cannot be walked past it.
			if !anyContains(structure.Problems, d.id) {
				t.Errorf("check without ReadData does not name tree blob %s:\n%s", d.id, strings.Join(structure.Problems, "\n"))
			}
			n := 0
			for i, err := range walkErrs {
				if err != nil {
					n++
					if !errors.Is(err, vfs.ErrCorrupt) || !strings.Contains(err.Error(), d.id) {
						t.Errorf("walk of snapshot %d: %v; want ErrCorrupt naming %s", i, err, d.id)
					}
				}
			}
			if n != 1 {
				t.Errorf("%d snapshots fail to walk, want 1", n)
			}
			if len(failed) == 0 {
				t.Error("every file opened although a tree node is damaged")
			}
		})
	}
	r := mustReopenFS(t, f.root)
	checkClean(t, r, true)
	if failed := f.readAllChecked(t, r); len(failed) > 0 {
		t.Fatalf("after restoring the bytes: %v", failed)
	}
}

// integrityFooterFlip damages a pack footer: check with ReadData reports
// the pack; reads go through the index and still work.
func integrityFooterFlip(t *testing.T, f *integrityFixture) {
	orig, _ := os.ReadFile(f.largest)
	bad := bytes.Clone(orig)
	bad[len(bad)-9] ^= 0x40 // last byte of the footer, right before the trailer
	os.WriteFile(f.largest, bad, 0o600)
	defer os.WriteFile(f.largest, orig, 0o600)
	r := mustReopenFS(t, f.root)
	rep := mustCheck(t, r, true)
	if !anyContains(rep.Problems, "pack "+filepath.Base(f.largest)) || !anyContains(rep.Problems, "footer") {
		t.Fatalf("problems do not name the pack footer:\n%s", strings.Join(rep.Problems, "\n"))
	}
	if failed := f.readAllChecked(t, r); len(failed) > 0 {
		t.Fatalf("reads use the index, not the footer: %v", failed)
	}
	os.WriteFile(f.largest, orig, 0o600)
	checkClean(t, mustReopenFS(t, f.root), true)
}

// integrityTruncatedPack: a truncated pack is reported by check with or
// without ReadData, and the files in it fail with ErrCorrupt.
func integrityTruncatedPack(t *testing.T, f *integrityFixture) {
	orig, _ := os.ReadFile(f.largest)
	defer os.WriteFile(f.largest, orig, 0o600)
	if err := os.Truncate(f.largest, int64(len(orig)/2)); err != nil {
		t.Fatal(err)
	}
	name := filepath.Base(f.largest)
	r := mustReopenFS(t, f.root)
	for _, readData := range []bool{false, true} {
		rep := mustCheck(t, r, readData)
		if !anyContains(rep.Problems, "lies past the end of pack "+name) {
			t.Errorf("ReadData=%v: no blob reported past the end of %s:\n%s", readData, name, strings.Join(rep.Problems, "\n"))
		}
		if readData && !anyContains(rep.Problems, "pack "+name+": pack: corrupt: bad trailer") {
			t.Errorf("ReadData: the bad trailer of %s is not reported:\n%s", name, strings.Join(rep.Problems, "\n"))
		}
	}
	if failed := f.readAllChecked(t, r); len(failed) == 0 {
		t.Error("every file read back from a truncated pack")
	}
	// A missing pack, too.
	os.Remove(f.largest)
	r = mustReopenFS(t, f.root)
	if rep := mustCheck(t, r, false); !anyContains(rep.Problems, "pack "+name+" is missing") {
		t.Errorf("missing pack not reported:\n%s", strings.Join(rep.Problems, "\n"))
	}
	if failed := f.readAllChecked(t, r); len(failed) == 0 {
		t.Error("every file read back without one of the packs")
	}
	os.WriteFile(f.largest, orig, 0o600)
	checkClean(t, mustReopenFS(t, f.root), true)
}

// integritySnapshotHeader: a snapshot header missing a byte is listed as
// bad, cannot be found, and does not hide the other snapshots.
func integritySnapshotHeader(t *testing.T, f *integrityFixture) {
	damagedID, okID := f.snaps[0].ID.String(), f.snaps[1].ID.String()
	p := filepath.Join(f.root, "snapshots", damagedID)
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	cut := len(orig) / 2
	os.WriteFile(p, append(bytes.Clone(orig[:cut]), orig[cut+1:]...), 0o600)
	defer os.WriteFile(p, orig, 0o600)

	r := mustReopenFS(t, f.root)
	ctx := context.Background()
	snaps, bad, err := r.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 1 || snaps[0].ID.String() != okID {
		t.Fatalf("ListSnapshots returned %d snapshots, want only %s", len(snaps), okID[:12])
	}
	if len(bad) != 1 || bad[damagedID] == nil {
		t.Fatalf("bad = %v, want %s", bad, damagedID[:12])
	}
	if _, err := r.FindSnapshot(ctx, damagedID); err == nil {
		t.Fatal("FindSnapshot of a damaged header succeeded")
	}
	if _, err := r.FindSnapshot(ctx, damagedID[:12]); err == nil {
		t.Fatal("FindSnapshot of a damaged header's prefix succeeded")
	}
	s, err := r.FindSnapshot(ctx, okID[:10])
	if err != nil {
		t.Fatal(err)
	}
	sameContent(t, r.SnapshotFS(ctx, s), f.srcs[1])
	if rep := mustCheck(t, r, false); !anyContains(rep.Problems, "snapshot "+damagedID) {
		t.Errorf("check does not report the damaged header:\n%s", strings.Join(rep.Problems, "\n"))
	}
	os.WriteFile(p, orig, 0o600)
	checkClean(t, mustReopenFS(t, f.root), false)
}

// integrityIndexDelta: a damaged index delta makes Open fail with an error
// naming it, without a panic.
func integrityIndexDelta(t *testing.T, f *integrityFixture) {
	entries, err := os.ReadDir(filepath.Join(f.root, "index"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("index folder: %d entries, %v; want 2 deltas", len(entries), err)
	}
	name := entries[0].Name()
	p := filepath.Join(f.root, "index", name)
	orig, _ := os.ReadFile(p)
	defer os.WriteFile(p, orig, 0o600)
	damage := map[string][]byte{
		"flipped":   func() []byte { b := bytes.Clone(orig); b[len(b)/2] ^= 1; return b }(),
		"truncated": orig[:len(orig)-1],
		"empty":     {},
	}
	for what, b := range damage {
		os.WriteFile(p, b, 0o600)
		_, err := reopenFS(t, f.root)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s delta: Open returned %v, want an error naming index object %s", what, err, name)
		}
	}
	os.WriteFile(p, orig, 0o600)
	r := mustReopenFS(t, f.root)
	checkClean(t, r, false)
	if failed := f.readAllChecked(t, r); len(failed) > 0 {
		t.Fatal(failed)
	}
}

func TestIntegrityWrongPassphraseFS(t *testing.T) {
	root, r := fsRepo(t)
	r.Close()
	st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][]byte{[]byte("correct horsf"), []byte("x"), bytes.Repeat([]byte("correct horse"), 10)} {
		_, err = engine.Open(context.Background(), st, engine.Options{Passphrase: p, CacheDir: t.TempDir()})
		if !errors.Is(err, engine.ErrWrongPassphrase) {
			t.Fatalf("passphrase %q: %v, want ErrWrongPassphrase", p, err)
		}
	}
}

// TestIntegrityTamperedCache damages the tree nodes kept in the local cache
// (flipped bytes, and a valid node planted under another node's id): reads
// fail with ErrCorrupt or return the right data, never wrong data.
func TestIntegrityTamperedCache(t *testing.T) {
	src := t.TempDir()
	for i := range 5 {
		writeFile(t, filepath.Join(src, fmt.Sprintf("d%d", i), "f.txt"), []byte(fmt.Sprintf("content %d", i)))
	}
	writeFile(t, filepath.Join(src, "top.bin"), randData(3, 300<<10))
	root, r0 := fsRepo(t)
	s := ingest(t, r0, src)
	id := r0.ID()
	r0.Close()

	for _, mode := range []string{"flip", "plant"} {
		t.Run(mode, func(t *testing.T) {
			cacheDir := t.TempDir()
			st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
			if err != nil {
				t.Fatal(err)
			}
			open := func() *engine.Repository {
				r, err := engine.Open(context.Background(), st, engine.Options{Passphrase: pass, CacheDir: cacheDir})
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			r := open()
			sameContent(t, r.SnapshotFS(context.Background(), s), src) // fills the cache
			r.Close()

			db, err := bolt.Open(filepath.Join(cacheDir, id, "index.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("trees-a")) // the first generation
				if b == nil {
					return errors.New("no trees bucket in the cache")
				}
				vals := map[string][]byte{}
				var keys []string
				b.ForEach(func(k, v []byte) error {
					keys = append(keys, string(k))
					vals[string(k)] = bytes.Clone(v)
					return nil
				})
				if len(keys) != 6 {
					return fmt.Errorf("%d cached tree nodes, want 6", len(keys))
				}
				for i, k := range keys {
					v := vals[k]
					if mode == "flip" {
						v[len(v)/2] ^= 0x20
					} else {
						v = vals[keys[(i+1)%len(keys)]]
					}
					if err := b.Put([]byte(k), v); err != nil {
						return err
					}
				}
				return nil
			})
			db.Close()
			if err != nil {
				t.Fatal(err)
			}

			r = open()
			defer r.Close()
			fsys := r.SnapshotFS(context.Background(), s)
			corrupt, good := 0, 0
			for e, err := range fsys.Walk(context.Background(), "") {
				if err != nil {
					if !errors.Is(err, vfs.ErrCorrupt) {
						t.Fatalf("walk: %v, want ErrCorrupt", err)
					}
					t.Logf("walk: %v", err)
					break
				}
				if _, err := os.Lstat(filepath.Join(src, strings.TrimSuffix(e.Key, "/"))); err != nil {
					t.Fatalf("walk yielded %q, which is not in the source", e.Key)
				}
			}
			filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
				if err != nil || !d.Type().IsRegular() {
					return err
				}
				rel, _ := filepath.Rel(src, p)
				got, err := readPrefix(fsys, filepath.ToSlash(rel))
				want, _ := os.ReadFile(p)
				if err != nil && !errors.Is(err, vfs.ErrCorrupt) {
					t.Errorf("%s: %v, want ErrCorrupt", rel, err)
				}
				if err == nil && !bytes.Equal(got, want) {
					t.Errorf("%s: wrong content from a tampered cache", rel)
				}
				if err != nil {
					corrupt++
				} else {
					good++
				}
				return nil
			})
			// Either outcome is safe: failing with ErrCorrupt, or falling
			// back to the packs and reading the right bytes.
			t.Logf("tampered cache: %d files failed with ErrCorrupt, %d read correctly", corrupt, good)
		})
	}
}
