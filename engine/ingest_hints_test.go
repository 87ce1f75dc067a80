package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// prefetchLog wraps the fs importer and records the order of Prefetch and
// Open calls.
type prefetchLog struct {
	*fsimporter.Importer
	mu         sync.Mutex
	prefetched map[string]bool
	late       []string // opened before being prefetched
	opened     int
}

func (p *prefetchLog) Prefetch(path string, size int64) {
	p.mu.Lock()
	p.prefetched[path] = true
	p.mu.Unlock()
	p.Importer.Prefetch(path, size)
}

func (p *prefetchLog) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	p.mu.Lock()
	p.opened++
	if !p.prefetched[path] {
		p.late = append(p.late, path)
	}
	p.mu.Unlock()
	return p.Importer.Open(ctx, path)
}

var _ importers.Prefetcher = (*prefetchLog)(nil)

// TestIngestPrefetchesBeforeOpen: the engine asks a Prefetcher for every
// file it will read before a reader opens it, and the snapshot is the same.
func TestIngestPrefetchesBeforeOpen(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 300; i++ {
		size := 100 + i*37
		if i%50 == 0 {
			size = 300 << 10 // chunked, not read whole
		}
		if err := enginetest.WriteFile(filepath.Join(dir, fmt.Sprintf("d%d/f%03d", i%7, i)), randData(uint64(i), size)); err != nil {
			t.Fatal(err)
		}
	}
	fsimp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer fsimp.Close()
	imp := &prefetchLog{Importer: fsimp, prefetched: map[string]bool{}}
	r, _ := enginetest.NewRepo(t)
	s, err := r.Ingest(context.Background(), imp, engine.IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.opened != 300 || len(imp.prefetched) != 300 {
		t.Errorf("opened %d files, prefetched %d; want 300 each", imp.opened, len(imp.prefetched))
	}
	if len(imp.late) > 0 {
		t.Errorf("%d files opened before their prefetch, e.g. %s", len(imp.late), imp.late[0])
	}
	if s.Header.Summary.Subtree.Files != 300 {
		t.Errorf("snapshot holds %d files, want 300", s.Header.Summary.Subtree.Files)
	}
}

// TestIngestCompressesTextAfterRandom: a stream that turns from random
// bytes to text is compressed again from its first text chunk on, although
// its chunks are first probed once one did not compress.
func TestIngestCompressesTextAfterRandom(t *testing.T) {
	dir := t.TempDir()
	data := append(randData(3, 6<<20), textData(4, 6<<20)...)
	if err := enginetest.WriteFile(filepath.Join(dir, "mixed.bin"), data); err != nil {
		t.Fatal(err)
	}
	r, _ := enginetest.NewRepo(t)
	s := enginetest.Ingest(t, r, dir, engine.IngestOptions{})
	// Random bytes stay 6 MiB; the text compresses at least 2x, less what
	// the chunk straddling the change costs.
	if got, limit := s.Header.Stats.StoredAdded, uint64(6<<20+3<<20+2<<20); got > limit {
		t.Errorf("stored %d bytes for 6 MiB random + 6 MiB text, want at most %d", got, limit)
	}
}

// prefetchStore records the ranges a store is asked to prefetch.
type prefetchStore struct {
	*fsstore.Store
	mu     sync.Mutex
	ranges int
	bytes  int64
}

func (s *prefetchStore) Prefetch(kind storage.Kind, name string, off, length int64) {
	s.mu.Lock()
	s.ranges++
	s.bytes += length
	s.mu.Unlock()
	s.Store.Prefetch(kind, name, off, length)
}

// TestSequentialReadHintsTheStore: a sequential reader has the store fetch
// its chunks ahead of the decrypting read-ahead, covering the file, and
// still reads the right bytes.
func TestSequentialReadHintsTheStore(t *testing.T) {
	dir := t.TempDir()
	data := randData(8, 40<<20)
	if err := enginetest.WriteFile(filepath.Join(dir, "big"), data); err != nil {
		t.Fatal(err)
	}
	fst, err := fsstore.New(context.Background(), fsstore.Config{Path: filepath.Join(t.TempDir(), "repo")})
	if err != nil {
		t.Fatal(err)
	}
	st := &prefetchStore{Store: fst}
	r := enginetest.NewRepoOn(t, st)
	s := enginetest.Ingest(t, r, dir, engine.IngestOptions{})
	f, err := r.SnapshotFS(context.Background(), s).Open("big")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes (err %v), differ from the source", len(got), err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	// Hints run in the background; what the read-ahead window loads
	// itself is not hinted. Most of the file must have been.
	if st.bytes < int64(len(data))/2 {
		t.Errorf("%d bytes in %d ranges hinted to the store for a %d-byte sequential read", st.bytes, st.ranges, len(data))
	}
}
