package s3_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	s3store "github.com/plakar-gw/plakar-gw/engine/storage/s3"
	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

func openStore(t *testing.T, cfg s3store.Config) *s3store.Store {
	t.Helper()
	s, err := s3store.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestEngineOnS3: the engine round trip on the S3 store: ingest, read back
// every file, check --read-data, a second "gateway" with its own cache
// sees the same snapshots and bytes, gc after removing a snapshot keeps
// the other readable.
func TestEngineOnS3(t *testing.T) {
	cfg := server(t)
	cfg.Bucket, cfg.Prefix = newBucket(t, cfg), "repos/a"
	ctx := context.Background()
	src := t.TempDir()
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: 12 << 20, Many: 200}); err != nil {
		t.Fatal(err)
	}
	r := enginetest.NewRepoOn(t, openStore(t, cfg))
	s1 := enginetest.Ingest(t, r, src, engine.IngestOptions{Job: "tricky"})
	if err := enginetest.WriteFile(filepath.Join(src, "added.txt"), []byte("second snapshot")); err != nil {
		t.Fatal(err)
	}
	s2 := enginetest.Ingest(t, r, src, engine.IngestOptions{Job: "tricky"})

	other := enginetest.OpenRepo(t, openStore(t, cfg))
	snaps, err := other.Snapshots(ctx)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("second gateway sees %d snapshots, %v", len(snaps), err)
	}
	fsys, err := other.OpenSnapshot(ctx, "tricky-latest")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		want, err := os.ReadFile(p)
		if err != nil {
			return nil // mode000 as non-root
		}
		got, err := fs.ReadFile(fsys, rel)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", rel, len(got), err)
		}
		n++
		return nil
	})
	if err != nil || n < 200 {
		t.Fatalf("compared %d files: %v", n, err)
	}
	rep, err := other.Check(ctx, engine.CheckOptions{ReadData: true})
	if err != nil || len(rep.Problems) != 0 {
		t.Fatalf("check --read-data on S3: %v %+v", err, rep)
	}
	if _, err := r.RemoveSnapshot(ctx, s1.ID.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GC(ctx, engine.GCOptions{}); err != nil {
		t.Fatal(err)
	}
	fsys2 := enginetest.OpenRepo(t, openStore(t, cfg)).SnapshotFS(ctx, s2)
	if b, err := fs.ReadFile(fsys2, "added.txt"); err != nil || string(b) != "second snapshot" {
		t.Errorf("after gc: %q %v", b, err)
	}
	if b, err := fs.ReadFile(fsys2, "big.bin"); err != nil || len(b) != 12<<20 {
		t.Errorf("after gc: big.bin %d bytes, %v", len(b), err)
	}
}

// hookImporter calls hook before opening each file.
type hookImporter struct {
	importers.Importer
	hook func(ctx context.Context) error
}

func (h *hookImporter) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := h.hook(ctx); err != nil {
		return nil, err
	}
	return h.Importer.Open(ctx, p)
}

// TestGCRacingIngestOnS3: two processes (two opens, two caches) on one
// bucket. gc cannot run while the other process's ingest holds its shared
// lock — stopped in the middle of reading, after packs may be written —
// and deletes nothing; an ingest cannot start while gc holds the exclusive
// lock; once the ingest ends, gc runs and the new snapshot stays whole.
func TestGCRacingIngestOnS3(t *testing.T) {
	cfg := server(t)
	cfg.Bucket, cfg.Prefix = newBucket(t, cfg), "race"
	ctx := context.Background()
	ingester := enginetest.NewRepoOn(t, openStore(t, cfg))
	collector := enginetest.OpenRepo(t, openStore(t, cfg))
	old := t.TempDir()
	if err := enginetest.WriteRandomFile(filepath.Join(old, "old.bin"), 1, 6<<20); err != nil {
		t.Fatal(err)
	}
	s0 := enginetest.Ingest(t, ingester, old, engine.IngestOptions{})
	if _, err := ingester.RemoveSnapshot(ctx, s0.ID.String()); err != nil {
		t.Fatal(err)
	}

	// gc holds the exclusive lock: an ingest from the other process fails.
	unlock, err := collector.Lock(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	for i := range 4 {
		if err := enginetest.WriteRandomFile(filepath.Join(src, fmt.Sprintf("f%d", i)), uint64(10+i), 5<<20); err != nil {
			t.Fatal(err)
		}
	}
	fsimp, err := fsimporter.New(ctx, fsimporter.Config{Root: src})
	if err != nil {
		t.Fatal(err)
	}
	defer fsimp.Close()
	if _, err := ingester.Ingest(ctx, fsimp, engine.IngestOptions{}); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("ingest under gc's lock: %v, want ErrLocked", err)
	}
	unlock()

	// The ingest holds its shared lock, stopped after its first files.
	opened, release := make(chan struct{}, 8), make(chan struct{})
	imp := &hookImporter{Importer: fsimp, hook: func(ctx context.Context) error {
		opened <- struct{}{}
		if len(opened) < 3 {
			return nil
		}
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
	type result struct {
		s   *snapshot.Snapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := ingester.Ingest(ctx, imp, engine.IngestOptions{NoParent: true})
		done <- result{s, err}
	}()
	for range 3 {
		<-opened
	}
	if _, err := collector.GC(ctx, engine.GCOptions{}); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("gc during the other process's ingest: %v, want ErrLocked", err)
	}
	close(release)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if _, err := collector.GC(ctx, engine.GCOptions{}); err != nil {
		t.Fatalf("gc after the ingest: %v", err)
	}
	fresh := enginetest.OpenRepo(t, openStore(t, cfg))
	fsys := fresh.SnapshotFS(ctx, res.s)
	for i := range 4 {
		want, _ := os.ReadFile(filepath.Join(src, fmt.Sprintf("f%d", i)))
		got, err := fs.ReadFile(fsys, fmt.Sprintf("f%d", i))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("f%d after gc: %d bytes, %v", i, len(got), err)
		}
	}
	if rep, err := fresh.Check(ctx, engine.CheckOptions{ReadData: true}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("check after gc: %v %v", err, rep.Problems)
	}
}

// TestStoreSuiteS3 runs the engine's store-dependent suite (round trip,
// dedup, integrity, concurrent ingests) on the S3 store, the same code
// engine's TestStoreSuiteFolder runs on a folder.
func TestStoreSuiteS3(t *testing.T) {
	cfg := server(t)
	enginetest.RunStoreSuite(t, func(t *testing.T) func() storage.Store {
		c := cfg
		c.Bucket, c.Prefix = newBucket(t, cfg), "suite"
		return func() storage.Store {
			st := openStore(t, c)
			t.Cleanup(func() { st.Close() })
			return st
		}
	})
}

// TestLockRace: gc and an ingest in two processes on one bucket, stopped
// at each lock point in turn (the same play as on the folder store).
func TestLockRace(t *testing.T) {
	cfg := server(t)
	bucket := newBucket(t, cfg)
	n := 0
	enginetest.RunLockRace(t, func(t *testing.T) string {
		n++
		return fmt.Sprintf("%s/race%d", bucket, n)
	}, openLocation)
}
