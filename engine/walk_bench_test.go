package engine_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/importers"
)

// synthImporter yields a generated tree of empty files, so that snapshots of
// hundreds of thousands of entries are built through the real ingest
// pipeline without touching the file system. gen yields paths (absolute,
// "/" excluded) in scan order: a directory before its contents, depth first.
type synthImporter struct {
	name string
	gen  func(yield func(path string, dir bool) bool)
}

var synthTime = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

func (s *synthImporter) Type() string   { return "synthetic" }
func (s *synthImporter) Origin() string { return "synthetic:" + s.name }
func (s *synthImporter) Close() error   { return nil }

func (s *synthImporter) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		if !yield(importers.Record{Path: "/", Mode: fs.ModeDir | 0o755, ModTime: synthTime}, nil) {
			return
		}
		seq := 0
		s.gen(func(p string, dir bool) bool {
			if err := ctx.Err(); err != nil {
				yield(importers.Record{}, err)
				return false
			}
			// Distinct mtimes keep directories of alike names from sharing
			// their (deduplicated) tree nodes, as real directories would not.
			seq++
			rec := importers.Record{Path: p, Mode: 0o644, ModTime: synthTime.Add(time.Duration(seq) * time.Second), UID: 1000, GID: 1000}
			if dir {
				rec.Mode = fs.ModeDir | 0o755
			}
			return yield(rec, nil)
		})
	}
}

func (s *synthImporter) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	return io.NopCloser(strings.NewReader("")), nil
}

// synthKeys returns the S3 keys of gen's entries, sorted as bytes.
func synthKeys(gen func(yield func(string, bool) bool)) []string {
	var keys []string
	gen(func(p string, dir bool) bool {
		k := p[1:]
		if dir {
			k += "/"
		}
		keys = append(keys, k)
		return true
	})
	slices.Sort(keys)
	return keys
}

// synthNested is dirs directories of files files each: /dNNNN/fNNNN.
func synthNested(dirs, files int) func(yield func(string, bool) bool) {
	return func(yield func(string, bool) bool) {
		for d := range dirs {
			dir := fmt.Sprintf("/d%04d", d)
			if !yield(dir, true) {
				return
			}
			for f := range files {
				if !yield(fmt.Sprintf("%s/f%04d", dir, f), false) {
					return
				}
			}
		}
	}
}

// synthFlat is one directory of n files: /fNNNNNNN.
func synthFlat(n int) func(yield func(string, bool) bool) {
	return func(yield func(string, bool) bool) {
		for i := range n {
			if !yield(fmt.Sprintf("/f%07d", i), false) {
				return
			}
		}
	}
}

// synthTricky is about 200,000 entries whose names make S3 order differ
// from a naive path sort: beside each directory dNNN sit files dNNN-x,
// dNNN.x (which sort before "dNNN/") and dNNN0 (after it); inside, a
// subdirectory g sits among files g-1, g.1 and g0. Scan order is not sorted.
func synthTricky(dirs, files int) func(yield func(string, bool) bool) {
	return func(yield func(string, bool) bool) {
		for d := dirs - 1; d >= 0; d-- {
			dir := fmt.Sprintf("/d%03d", d)
			for _, p := range []string{dir + "0", dir + "-x", dir + ".x"} {
				if !yield(p, false) {
					return
				}
			}
			if !yield(dir, true) {
				return
			}
			for f := range files {
				if !yield(fmt.Sprintf("%s/f%04d", dir, (f*7919)%files), false) {
					return
				}
			}
			if !yield(dir+"/g", true) {
				return
			}
			for _, p := range []string{"/g/x", "/g/x-", "/g/y"} {
				if !yield(dir+p, false) {
					return
				}
			}
			for _, p := range []string{"/g-1", "/g.1", "/g0", "/g00"} {
				if !yield(dir+p, false) {
					return
				}
			}
		}
	}
}

type walkFixture struct {
	r    *engine.Repository
	snap *snapshot.Snapshot
	fsys vfs.FS
	keys []string // every key of the snapshot, sorted
}

// newWalkFixture ingests gen into a new repository on the fs backend in dir.
// cleanup registers what to release when the fixture is no longer needed
// (a benchmark's sub-benchmarks share a fixture that outlives their runs).
func newWalkFixture(tb testing.TB, cleanup func(func()), dir, name string, gen func(yield func(string, bool) bool)) *walkFixture {
	tb.Helper()
	ctx := context.Background()
	st, err := fsstore.New(ctx, fsstore.Config{Path: dir + "/repo"})
	if err != nil {
		tb.Fatal(err)
	}
	cleanup(func() { st.Close() })
	if err := engine.Init(ctx, st, pass); err != nil {
		tb.Fatal(err)
	}
	r, err := engine.Open(ctx, st, engine.Options{Passphrase: pass, CacheDir: dir + "/cache"})
	if err != nil {
		tb.Fatal(err)
	}
	cleanup(func() { r.Close() })
	start := time.Now()
	snap, err := r.Ingest(ctx, &synthImporter{name: name, gen: gen}, engine.IngestOptions{Hostname: "bench", Time: synthTime})
	if err != nil {
		tb.Fatal(err)
	}
	keys := synthKeys(gen)
	tb.Logf("%s: ingested %d entries in %v", name, len(keys), time.Since(start).Round(time.Millisecond))
	if got := snap.Header.Summary.Subtree.Files + snap.Header.Summary.Subtree.Dirs; got != uint64(len(keys)) {
		tb.Fatalf("%s: snapshot holds %d entries, want %d", name, got, len(keys))
	}
	return &walkFixture{r: r, snap: snap, fsys: r.SnapshotFS(ctx, snap), keys: keys}
}

// walkN returns the keys of the first n entries after after.
func walkN(tb testing.TB, fsys vfs.FS, after string, n int) []string {
	var out []string
	for e, err := range fsys.Walk(context.Background(), after) {
		if err != nil {
			tb.Fatalf("walk after %q: %v", after, err)
		}
		out = append(out, e.Key)
		if len(out) == n {
			break
		}
	}
	return out
}

// tailAfter is what a walk after after must return: the sorted keys
// strictly greater than after, at most n.
func tailAfter(keys []string, after string, n int) []string {
	i, found := slices.BinarySearch(keys, after)
	if found {
		i++
	}
	return keys[i:min(i+n, len(keys))]
}

// randomAfter picks an existing key, or a string between two keys, or a
// prefix of a key, or a key past the end: the cases a ListObjectsV2
// continuation or start-after can send.
func randomAfter(rng *rand.Rand, keys []string) string {
	k := keys[rng.IntN(len(keys))]
	switch rng.IntN(6) {
	case 0, 1:
		return k
	case 2:
		return k + "\x00"
	case 3:
		return k + "~"
	case 4:
		return k[:rng.IntN(len(k))]
	default:
		return strings.TrimSuffix(k, "/") + "-"
	}
}

// TestWalkLargeSnapshot checks Walk over a snapshot of about 200,000
// entries: the whole walk is every key in byte order, and a walk from any
// after is the tail of that list.
func TestWalkLargeSnapshot(t *testing.T) {
	dirs, files := 200, 990
	if testing.Short() {
		dirs = 20
	} else if walkRaceEnabled() {
		dirs = 40 // the race detector makes the full size take minutes
	}
	fx := newWalkFixture(t, t.Cleanup, t.TempDir(), "tricky", synthTricky(dirs, files))
	if len(fx.keys) < dirs*files {
		t.Fatalf("only %d keys", len(fx.keys))
	}
	start := time.Now()
	all := walkN(t, fx.fsys, "", -1)
	t.Logf("full walk of %d entries in %v", len(all), time.Since(start).Round(time.Millisecond))
	if !slices.IsSorted(all) {
		for i := 1; i < len(all); i++ {
			if all[i-1] >= all[i] {
				t.Fatalf("walk not in byte order at %d: %q then %q", i, all[i-1], all[i])
			}
		}
	}
	if !slices.Equal(all, fx.keys) {
		t.Fatalf("walk yields %d keys, want %d", len(all), len(fx.keys))
	}
	rng := rand.New(rand.NewPCG(7, 7))
	afters := []string{"", "d", "d000", "d000/", "d000/g", "d000/g/", "d000/g/x", "d000/g-1", "d000.x", "d199/g00", "e", "\xff", fx.keys[len(fx.keys)-1]}
	for range 50 {
		afters = append(afters, randomAfter(rng, fx.keys))
	}
	for _, after := range afters {
		got := walkN(t, fx.fsys, after, 1000)
		want := tailAfter(fx.keys, after, 1000)
		if !slices.Equal(got, want) {
			t.Fatalf("walk after %q: %d keys starting %q, want %d starting %q", after, len(got), firstKey(got), len(want), firstKey(want))
		}
	}
}

// walkRaceEnabled reports whether the test binary was built with -race.
func walkRaceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "-race" {
				return st.Value == "true"
			}
		}
	}
	return false
}

func firstKey(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return s[0]
}

// BenchmarkWalk measures the acceptance criterion: on a snapshot of
// 1,000,000 entries, Walk(after) returns the next 1,000 entries in at most
// 20 ms whatever after is. Each fixture is ingested once per run, outside
// the timer, then walked whole once (which checks every key and fills the
// caches). Each op walks 1,000 entries from a random after:
//
//   - cached: the same repository, nodes in its memory cache;
//   - cold: a repository opened (outside the timer) on an empty cache
//     directory before each op, so that every node is read from its pack,
//     authenticated, decoded and written to the on-disk cache.
func BenchmarkWalk(top *testing.B) {
	shapes := []struct {
		name string
		gen  func(yield func(string, bool) bool)
	}{
		{"1M-in-1000-dirs", synthNested(1000, 999)}, // 1000 dirs + 999,000 files
		{"1M-in-one-dir", synthFlat(1_000_000)},
	}
	root := top.TempDir()
	for i, shape := range shapes {
		var (
			once sync.Once
			fx   *walkFixture
		)
		fixture := func(b *testing.B) *walkFixture {
			once.Do(func() {
				fx = newWalkFixture(b, top.Cleanup, fmt.Sprintf("%s/%d", root, i), shape.name, shape.gen)
				start := time.Now()
				if all := walkN(b, fx.fsys, "", -1); !slices.Equal(all, fx.keys) {
					b.Fatalf("%s: full walk yields %d keys, want %d", shape.name, len(all), len(fx.keys))
				}
				b.Logf("%s: first full walk in %v", shape.name, time.Since(start).Round(time.Millisecond))
			})
			if fx == nil {
				b.Fatal("no fixture")
			}
			return fx
		}
		top.Run(shape.name+"/cached", func(b *testing.B) {
			fx := fixture(b)
			benchWalk(b, fx, func() vfs.FS { return fx.fsys })
		})
		top.Run(shape.name+"/cold", func(b *testing.B) {
			fx := fixture(b)
			var r *engine.Repository
			defer func() {
				if r != nil {
					r.Close()
				}
			}()
			benchWalk(b, fx, func() vfs.FS {
				if r != nil {
					r.Close()
				}
				dir, err := os.MkdirTemp(root, "cold-cache-")
				if err != nil {
					b.Fatal(err)
				}
				r, err = engine.Open(context.Background(), fx.r.Store(), engine.Options{Passphrase: pass, CacheDir: dir})
				if err != nil {
					b.Fatal(err)
				}
				return r.SnapshotFS(context.Background(), fx.snap)
			})
		})
	}
}

// benchWalk times b.N walks of 1,000 entries from random afters; fsys is
// called before each op, outside the timer.
func benchWalk(b *testing.B, fx *walkFixture, fsys func() vfs.FS) {
	rng := rand.New(rand.NewPCG(1, 2))
	afters := make([]string, b.N)
	for i := range afters {
		afters[i] = randomAfter(rng, fx.keys)
	}
	var worst, total time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := fsys()
		b.StartTimer()
		start := time.Now()
		n := 0
		for _, err := range f.Walk(context.Background(), afters[i]) {
			if err != nil {
				b.Fatal(err)
			}
			if n++; n == 1000 {
				break
			}
		}
		d := time.Since(start)
		total += d
		worst = max(worst, d)
		if want := len(tailAfter(fx.keys, afters[i], 1000)); n != want {
			b.Fatalf("after %q: %d entries, want %d", afters[i], n, want)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/1000entries")
	b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
}
