package engine_test

import (
	"bytes"
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// TestChunkCache: a file read twice is decrypted once; the counters say so.
func TestChunkCache(t *testing.T) {
	r, _ := enginetest.NewRepo(t)
	src := t.TempDir()
	data := enginetest.RandData(11, 3<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "f"), data); err != nil {
		t.Fatal(err)
	}
	s := enginetest.Ingest(t, r, src, engine.IngestOptions{})
	fsys := r.SnapshotFS(context.Background(), s)
	before := r.CacheStats()
	for range 2 {
		b, err := fs.ReadFile(fsys, "f")
		if err != nil || !bytes.Equal(b, data) {
			t.Fatalf("read: %d bytes, %v", len(b), err)
		}
	}
	st := r.CacheStats()
	misses, hits := st.ChunkMisses-before.ChunkMisses, st.ChunkHits-before.ChunkHits
	if misses == 0 || hits < misses {
		t.Errorf("chunk cache: %d misses, %d hits for two reads", misses, hits)
	}
	if st.NodeHits+st.NodeMisses == 0 {
		t.Error("tree node lookups not counted")
	}
}
