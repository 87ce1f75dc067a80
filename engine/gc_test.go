package engine_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/storage/mem"
)

func newPacks(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for p, n := range after {
		if _, ok := before[p]; !ok {
			out[p] = n
		}
	}
	return out
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

func indexDeltas(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "index"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestGCRemovesUnusedPacks: after rm A, gc deletes exactly the packs only
// A used, frees what A added, and leaves B intact; later ingests dedup
// against the compacted index.
func TestGCRemovesUnusedPacks(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(a, "a.bin"), randData(41, 6<<20))
	writeFile(t, filepath.Join(a, "sub", "a.txt"), textData(41, 500<<10))
	writeFile(t, filepath.Join(a, "small"), []byte("only in a"))
	writeFile(t, filepath.Join(b, "b.bin"), randData(42, 3<<20))
	writeFile(t, filepath.Join(b, "other", "b.txt"), textData(42, 200<<10))
	writeFile(t, filepath.Join(b, "small"), []byte("only in b"))

	root, r := fsRepo(t)
	ctx := context.Background()
	p0 := packFiles(t, root)
	sa := ingest(t, r, a)
	p1 := packFiles(t, root)
	sb := ingest(t, r, b)
	p2 := packFiles(t, root)
	packsA, packsB := newPacks(p0, p1), newPacks(p1, p2)
	if len(packsA) != 2 || len(packsB) != 2 {
		t.Fatalf("%d packs for A, %d for B; want a data and a tree pack each", len(packsA), len(packsB))
	}
	if sum(packsA) != int64(sa.Header.Stats.StoredAdded) {
		t.Fatalf("A's packs hold %d bytes, StoredAdded says %d", sum(packsA), sa.Header.Stats.StoredAdded)
	}

	if _, err := r.RemoveSnapshot(ctx, sa.ID.String()[:10]); err != nil {
		t.Fatal(err)
	}
	dry, err := r.GC(ctx, engine.GCOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(packFiles(t, root), p2) {
		t.Fatal("a dry run deleted packs")
	}
	before := repoBytes(t, root)
	rep, err := r.GC(ctx, engine.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after := repoBytes(t, root)
	t.Logf("gc: %+v; repository %d -> %d bytes; A added %d", rep, before, after, sa.Header.Stats.StoredAdded)
	if *dry != *rep {
		t.Errorf("dry run reported %+v, gc %+v", dry, rep)
	}
	if !maps.Equal(packFiles(t, root), packsB) {
		t.Fatalf("packs after gc:\n%v\nwant B's:\n%v", packFiles(t, root), packsB)
	}
	if rep.PacksDeleted != 2 || rep.BytesFreed != sum(packsA) {
		t.Fatalf("gc report %+v; want 2 packs and %d bytes", rep, sum(packsA))
	}
	if shrink := before - after; shrink < sum(packsA)-(16<<10) || shrink > sum(packsA)+(16<<10) {
		t.Fatalf("repository shrank by %d bytes; A's packs were %d", shrink, sum(packsA))
	}
	if d := indexDeltas(t, root); len(d) != 1 {
		t.Fatalf("index deltas after gc: %v, want one compacted delta", d)
	}

	sameContent(t, r.SnapshotFS(ctx, sb), b)
	checkClean(t, r, true)
	fresh := mustReopenFS(t, root)
	sameContent(t, fresh.SnapshotFS(ctx, sb), b)
	rep2 := checkClean(t, fresh, true)
	if rep2.Snapshots != 1 || rep2.Packs != 2 || rep2.UnusedPacks != 0 {
		t.Fatalf("check after gc: %+v", rep2)
	}

	// B again adds nothing: its blobs are found in the compacted index.
	if s := ingestOpts(t, fresh, b, engine.IngestOptions{NoParent: true}); s.Header.Stats.StoredAdded != 0 {
		t.Errorf("re-ingest of B stored %d bytes", s.Header.Stats.StoredAdded)
	}
	// A again must store its data again: gc deleted it.
	for _, rr := range []*engine.Repository{r, fresh} {
		sa2 := ingest(t, rr, a)
		if sa2.Header.Stats.StoredAdded < 6<<20 && rr == r {
			t.Errorf("re-ingest of A after gc stored only %d bytes", sa2.Header.Stats.StoredAdded)
		}
		sameContent(t, rr.SnapshotFS(ctx, sa2), a)
	}
	checkClean(t, mustReopenFS(t, root), true)
}

// TestGCKeepsSharedPacks: a pack of the removed snapshot that holds a blob
// another snapshot uses is kept.
func TestGCKeepsSharedPacks(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	shared := randData(51, 2<<20)
	writeFile(t, filepath.Join(a, "a.bin"), randData(52, 4<<20))
	writeFile(t, filepath.Join(a, "shared.bin"), shared)
	writeFile(t, filepath.Join(b, "b.bin"), randData(53, 2<<20))
	writeFile(t, filepath.Join(b, "copy-of-shared.bin"), shared)

	root, r := fsRepo(t)
	ctx := context.Background()
	sa := ingest(t, r, a)
	packsA := packFiles(t, root)
	sb := ingest(t, r, b)
	packsB := newPacks(packsA, packFiles(t, root))
	if sb.Header.Stats.StoredAdded > 3<<20 {
		t.Fatalf("B stored %d bytes; the shared file should have been deduplicated", sb.Header.Stats.StoredAdded)
	}
	if _, err := r.RemoveSnapshot(ctx, sa.ID.String()); err != nil {
		t.Fatal(err)
	}
	rep, err := r.GC(ctx, engine.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	left := packFiles(t, root)
	// A's tree pack goes; A's data pack holds the shared chunks and stays.
	var keptA []string
	for p := range packsA {
		if _, ok := left[p]; ok {
			keptA = append(keptA, p)
		}
	}
	if rep.PacksDeleted != 1 || len(keptA) != 1 || packsA[keptA[0]] < 6<<20 {
		t.Fatalf("gc %+v; kept A packs %v of %v", rep, keptA, packsA)
	}
	for p := range packsB {
		if _, ok := left[p]; !ok {
			t.Fatalf("gc deleted B's pack %s", p)
		}
	}
	sameContent(t, r.SnapshotFS(ctx, sb), b)
	fresh := mustReopenFS(t, root)
	sameContent(t, fresh.SnapshotFS(ctx, sb), b)
	checkClean(t, fresh, true)
	// Nothing more to collect.
	if rep, err := fresh.GC(ctx, engine.GCOptions{}); err != nil || rep.PacksDeleted != 0 {
		t.Fatalf("second gc: %+v, %v", rep, err)
	}
}

// TestGCThenIngestFromAnotherProcess: a process that opened the repository
// before gc (its cache still lists the deleted packs' blobs) ingests the
// removed data again. It must store it again, not point at deleted packs.
func TestGCThenIngestFromAnotherProcess(t *testing.T) {
	a := t.TempDir()
	writeFile(t, filepath.Join(a, "a.bin"), randData(61, 3<<20))
	writeFile(t, filepath.Join(a, "small"), []byte("small"))
	root, r := fsRepo(t)
	ctx := context.Background()
	sa := ingest(t, r, a)
	other := mustReopenFS(t, root) // merges the index into its own cache
	sameContent(t, other.SnapshotFS(ctx, sa), a)
	if _, err := r.RemoveSnapshot(ctx, sa.ID.String()); err != nil {
		t.Fatal(err)
	}
	if rep, err := r.GC(ctx, engine.GCOptions{}); err != nil || rep.PacksDeleted != 2 {
		t.Fatalf("gc: %+v, %v", rep, err)
	}
	if n := len(packFiles(t, root)); n != 0 {
		t.Fatalf("%d packs left", n)
	}
	s := ingest(t, other, a)
	if s.Header.Stats.StoredAdded < 3<<20 {
		t.Errorf("ingest after gc stored %d bytes: it deduplicated against deleted packs", s.Header.Stats.StoredAdded)
	}
	fresh := mustReopenFS(t, root)
	sameContent(t, fresh.SnapshotFS(ctx, s), a)
	checkClean(t, fresh, true)
	if got := slices.Collect(maps.Keys(packFiles(t, root))); len(got) != 2 {
		t.Errorf("packs after the new ingest: %v", got)
	}
}

// TestCheckSkipsGarbagePacks: a truncated pack no index names (an S3
// server may keep the partial body of a PUT whose client was killed) is
// garbage for gc, not damage: check --read-data passes and counts it.
func TestCheckSkipsGarbagePacks(t *testing.T) {
	ctx := context.Background()
	st := mem.New()
	r := enginetest.NewRepoOn(t, st)
	src := t.TempDir()
	if err := enginetest.WriteFile(filepath.Join(src, "f"), enginetest.RandData(31, 1<<20)); err != nil {
		t.Fatal(err)
	}
	enginetest.Ingest(t, r, src, engine.IngestOptions{})
	junk := strings.Repeat("ab", 32)
	if err := st.Put(ctx, storage.KindPack, junk, strings.NewReader("half a pack, no trailer")); err != nil {
		t.Fatal(err)
	}
	rep, err := r.Check(ctx, engine.CheckOptions{ReadData: true})
	if err != nil || len(rep.Problems) != 0 || rep.UnusedPacks != 1 {
		t.Fatalf("check: %v, problems %q, %d unused packs", err, rep.Problems, rep.UnusedPacks)
	}
}
