package s3_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	s3store "github.com/plakar-gw/plakar-gw/engine/storage/s3"
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
