package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// hookImporter is the fs importer with a hook run before every Open; a
// non-nil error from the hook is returned instead of the file.
type hookImporter struct {
	*fsimporter.Importer
	hook func(ctx context.Context, path string) error
}

func (h *hookImporter) Open(ctx context.Context, path string) (io.ReadCloser, error) {
	if h.hook != nil {
		if err := h.hook(ctx, path); err != nil {
			return nil, err
		}
	}
	return h.Importer.Open(ctx, path)
}

func newHookImporter(t *testing.T, dir string, hook func(context.Context, string) error) *hookImporter {
	t.Helper()
	imp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imp.Close() })
	return &hookImporter{Importer: imp, hook: hook}
}

// concTree writes a few MiB: files unique to seed, and a file every tree
// shares (so that concurrent ingests race to store the same blobs).
func concTree(t *testing.T, seed uint64) string {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "shared.bin"), randData(999, 1<<20))
	writeFile(t, filepath.Join(dir, "own.bin"), randData(seed, 2<<20+int(seed)))
	writeFile(t, filepath.Join(dir, "sub", "text.txt"), textData(seed, 300<<10))
	for i := range 10 {
		writeFile(t, filepath.Join(dir, "many", fmt.Sprintf("f%d", i)), randData(seed*100+uint64(i), 500+i))
	}
	writeFile(t, filepath.Join(dir, "same-small"), []byte("identical in every tree"))
	return dir
}

func lockFiles(t *testing.T, root string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(root, "locks"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// ingestConcurrently runs one ingest per (repository, tree) pair at once.
func ingestConcurrently(t *testing.T, repos []*engine.Repository, dirs []string) []*snapshot.Snapshot {
	t.Helper()
	snaps := make([]*snapshot.Snapshot, len(dirs))
	errs := make([]error, len(dirs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			imp, err := fsimporter.New(ctx, fsimporter.Config{Root: dir})
			if err != nil {
				errs[i] = err
				return
			}
			defer imp.Close()
			<-start
			snaps[i], errs[i] = repos[i].Ingest(ctx, imp, engine.IngestOptions{})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ingest %d: %v", i, err)
		}
	}
	return snaps
}

// TestConcurrentIngestTwoProcesses: two repositories opened separately
// (two processes, two caches) ingest into the same folder at once.
func TestConcurrentIngestTwoProcesses(t *testing.T) {
	root, r0 := fsRepo(t)
	r0.Close()
	r1, r2 := mustReopenFS(t, root), mustReopenFS(t, root)
	a, b := concTree(t, 1), concTree(t, 2)
	snaps := ingestConcurrently(t, []*engine.Repository{r1, r2}, []string{a, b})
	ctx := context.Background()

	// Each process reads its own snapshot and the other's (whose blobs it
	// learns of by re-reading the index).
	for _, r := range []*engine.Repository{r1, r2, mustReopenFS(t, root)} {
		sameContent(t, r.SnapshotFS(ctx, snaps[0]), a)
		sameContent(t, r.SnapshotFS(ctx, snaps[1]), b)
	}
	r3 := mustReopenFS(t, root)
	list, bad, err := r3.ListSnapshots(ctx)
	if err != nil || len(list) != 2 || len(bad) != 0 {
		t.Fatalf("ListSnapshots: %d snapshots, bad %v, %v", len(list), bad, err)
	}
	rep := checkClean(t, r3, true)
	if rep.Snapshots != 2 || rep.UnusedPacks != 0 {
		t.Fatalf("check: %+v", rep)
	}
	if l := lockFiles(t, root); len(l) != 0 {
		t.Fatalf("locks left behind: %v", l)
	}
}

// TestConcurrentIngestSameRepository: several goroutines ingest different
// trees through one Repository.
func TestConcurrentIngestSameRepository(t *testing.T) {
	root, r := fsRepo(t)
	dirs := []string{concTree(t, 3), concTree(t, 4), concTree(t, 5)}
	snaps := ingestConcurrently(t, []*engine.Repository{r, r, r}, dirs)
	for i, dir := range dirs {
		sameContent(t, r.SnapshotFS(context.Background(), snaps[i]), dir)
	}
	checkClean(t, r, true)
	r2 := mustReopenFS(t, root)
	for i, dir := range dirs {
		sameContent(t, r2.SnapshotFS(context.Background(), snaps[i]), dir)
	}
	checkClean(t, r2, true)
	// Everything is stored: a new ingest of the same trees adds nothing.
	for _, dir := range dirs {
		if s := ingestOpts(t, r2, dir, engine.IngestOptions{NoParent: true}); s.Header.Stats.StoredAdded != 0 {
			t.Errorf("re-ingest of %s stored %d bytes", dir, s.Header.Stats.StoredAdded)
		}
	}
}

// TestConcurrentGCAgainstIngest: gc cannot run while an ingest holds its
// shared lock, in this process or another, and runs once it is released;
// an ingest cannot start while gc holds the exclusive lock.
func TestConcurrentGCAgainstIngest(t *testing.T) {
	root, r := fsRepo(t)
	other := mustReopenFS(t, root)
	ctx := context.Background()
	old := ingest(t, r, concTree(t, 6))
	if _, err := r.RemoveSnapshot(ctx, old.ID.String()); err != nil {
		t.Fatal(err)
	}

	// A lock taken directly.
	unlock, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for i, g := range []*engine.Repository{r, other} {
		if _, err := g.GC(ctx, engine.GCOptions{}); !errors.Is(err, engine.ErrLocked) {
			t.Fatalf("gc %d under a shared lock: %v, want ErrLocked", i, err)
		}
	}
	unlock2, err := other.Lock(ctx, false)
	if err != nil {
		t.Fatalf("a second shared lock: %v", err) // shared locks coexist
	}
	unlock()
	if _, err := r.GC(ctx, engine.GCOptions{}); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("gc while the other process holds a shared lock: %v, want ErrLocked", err)
	}
	unlock2()
	if l := lockFiles(t, root); len(l) != 0 {
		t.Fatalf("locks left after release: %v", l)
	}

	// A lock held by a running ingest, blocked in the middle of reading.
	dir := concTree(t, 7)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	imp := newHookImporter(t, dir, func(ctx context.Context, p string) error {
		once.Do(func() { close(started) })
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	type result struct {
		s   *snapshot.Snapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := r.Ingest(ctx, imp, engine.IngestOptions{})
		done <- result{s, err}
	}()
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the ingest never opened a file")
	}
	packs := packFiles(t, root)
	for i, g := range []*engine.Repository{r, other} {
		if _, err := g.GC(ctx, engine.GCOptions{}); !errors.Is(err, engine.ErrLocked) {
			t.Fatalf("gc %d during an ingest: %v, want ErrLocked", i, err)
		}
	}
	// gc backed off without deleting anything.
	after := packFiles(t, root)
	for p := range packs {
		if _, ok := after[p]; !ok {
			t.Fatalf("gc refused to run but deleted %s", p)
		}
	}
	close(release)
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}

	// Now gc runs, and removes the removed snapshot's packs only.
	rep, err := other.GC(ctx, engine.GCOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.PacksDeleted == 0 {
		t.Fatalf("gc deleted nothing: %+v", rep)
	}
	sameContent(t, r.SnapshotFS(ctx, res.s), dir)
	sameContent(t, mustReopenFS(t, root).SnapshotFS(ctx, res.s), dir)
	checkClean(t, mustReopenFS(t, root), true)

	// The exclusive lock keeps ingests out.
	unlock, err = other.Lock(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	imp2 := newHookImporter(t, dir, nil)
	if _, err := r.Ingest(ctx, imp2, engine.IngestOptions{}); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("ingest under an exclusive lock: %v, want ErrLocked", err)
	}
	if _, err := r.Lock(ctx, true); !errors.Is(err, engine.ErrLocked) {
		t.Fatalf("second exclusive lock: %v, want ErrLocked", err)
	}
	unlock()
	if _, err := r.Ingest(ctx, imp2, engine.IngestOptions{}); err != nil {
		t.Fatal(err)
	}
	if l := lockFiles(t, root); len(l) != 0 {
		t.Fatalf("locks left behind: %v", l)
	}
}
