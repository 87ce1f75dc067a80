package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// RunStoreSuite runs the engine's behaviour that depends on where bytes
// live against one backend: the round trip of the tricky tree, dedup,
// integrity (damage made through the store), and two processes ingesting
// at once. newStore returns the same, initially empty, store location
// each time it is called within one subtest (a second open is another
// process).
func RunStoreSuite(t *testing.T, newStore func(t *testing.T) (open func() storage.Store)) {
	t.Run("RoundTrip", func(t *testing.T) { suiteRoundTrip(t, newStore(t)) })
	t.Run("Dedup", func(t *testing.T) { suiteDedup(t, newStore(t)) })
	t.Run("Integrity", func(t *testing.T) { suiteIntegrity(t, newStore(t)) })
	t.Run("ConcurrentIngest", func(t *testing.T) { suiteConcurrent(t, newStore(t)) })
}

func readAll(t *testing.T, fsys fs.FS, src string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		want, err := os.ReadFile(p)
		if err != nil {
			return nil // unreadable in the source (mode 000 as non-root)
		}
		got, err := fs.ReadFile(fsys, filepath.ToSlash(rel))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, %v", rel, len(got), err)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func checkRepo(t *testing.T, r *engine.Repository) *engine.CheckReport {
	t.Helper()
	rep, err := r.Check(context.Background(), engine.CheckOptions{ReadData: true})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func suiteRoundTrip(t *testing.T, open func() storage.Store) {
	src := t.TempDir()
	if _, err := TrickyTree(src, Tricky{BigSize: 8 << 20, Many: 100}); err != nil {
		t.Fatal(err)
	}
	r := NewRepoOn(t, open())
	s := Ingest(t, r, src, engine.IngestOptions{Job: "rt"})
	other := OpenRepo(t, open())
	if n := readAll(t, other.SnapshotFS(context.Background(), s), src); n < 100 {
		t.Errorf("compared %d files", n)
	}
	if rep := checkRepo(t, other); len(rep.Problems) != 0 {
		t.Errorf("check: %v", rep.Problems)
	}
}

func suiteDedup(t *testing.T, open func() storage.Store) {
	src := t.TempDir()
	data := RandData(21, 12<<20)
	if err := WriteFile(filepath.Join(src, "big"), data); err != nil {
		t.Fatal(err)
	}
	r := NewRepoOn(t, open())
	first := Ingest(t, r, src, engine.IngestOptions{})
	again := Ingest(t, OpenRepo(t, open()), src, engine.IngestOptions{NoParent: true})
	if again.Header.Stats.StoredAdded != 0 {
		t.Errorf("re-ingest of unchanged data stored %d bytes", again.Header.Stats.StoredAdded)
	}
	// 1 KiB inserted in the middle: only the chunks around it are new.
	changed := append(append(append([]byte(nil), data[:6<<20]...), RandData(22, 1024)...), data[6<<20:]...)
	if err := WriteFile(filepath.Join(src, "big"), changed); err != nil {
		t.Fatal(err)
	}
	s := Ingest(t, r, src, engine.IngestOptions{})
	if added := s.Header.Stats.StoredAdded; added == 0 || added > first.Header.Stats.StoredAdded/3 {
		t.Errorf("an insertion stored %d bytes of %d", added, first.Header.Stats.StoredAdded)
	}
	readAll(t, OpenRepo(t, open()).SnapshotFS(context.Background(), s), src)
}

func suiteIntegrity(t *testing.T, open func() storage.Store) {
	src := t.TempDir()
	if err := WriteFile(filepath.Join(src, "big"), RandData(23, 6<<20)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(src, "small"), []byte("untouched")); err != nil {
		t.Fatal(err)
	}
	st := open()
	r := NewRepoOn(t, st)
	s := Ingest(t, r, src, engine.IngestOptions{})
	// Damage the largest pack through the store, as a bad disk or a
	// tampering server would: flip 16 bytes in its middle.
	ctx := context.Background()
	var largest string
	var size int64
	for name, err := range st.List(ctx, storage.KindPack) {
		if err != nil {
			t.Fatal(err)
		}
		if info, err := st.Stat(ctx, storage.KindPack, name); err == nil && info.Size > size {
			largest, size = name, info.Size
		}
	}
	rc, err := st.Get(ctx, storage.KindPack, largest, 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	rc.Close()
	b := buf.Bytes()
	for i := range 16 {
		b[len(b)/2+i] ^= 0x55
	}
	if err := st.Put(ctx, storage.KindPack, largest, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	fresh := OpenRepo(t, open())
	fsys := fresh.SnapshotFS(ctx, s)
	if _, err := fs.ReadFile(fsys, "big"); !errors.Is(err, vfs.ErrCorrupt) {
		t.Errorf("reading a damaged file: %v, want vfs.ErrCorrupt", err)
	}
	if rep := checkRepo(t, fresh); len(rep.Problems) == 0 {
		t.Error("check --read-data found nothing in a damaged pack")
	}
}

func suiteConcurrent(t *testing.T, open func() storage.Store) {
	var dirs [2]string
	for i := range dirs {
		dirs[i] = t.TempDir()
		for j := range 20 {
			if err := WriteFile(filepath.Join(dirs[i], fmt.Sprintf("f%d", j)), RandData(uint64(100*i+j), 200<<10)); err != nil {
				t.Fatal(err)
			}
		}
		// Shared content too, stored by whichever process gets there.
		if err := WriteFile(filepath.Join(dirs[i], "shared"), RandData(99, 3<<20)); err != nil {
			t.Fatal(err)
		}
	}
	NewRepoOn(t, open())
	repos := [2]*engine.Repository{OpenRepo(t, open()), OpenRepo(t, open())}
	var wg sync.WaitGroup
	ids, errs := make([]string, 2), make([]error, 2)
	for i := range repos {
		wg.Go(func() {
			imp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: dirs[i]})
			if err != nil {
				errs[i] = err
				return
			}
			defer imp.Close()
			s, err := repos[i].Ingest(context.Background(), imp, engine.IngestOptions{Job: fmt.Sprintf("p%d", i)})
			if err == nil {
				ids[i] = s.ID.String()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	fresh := OpenRepo(t, open())
	for i, id := range ids {
		fsys, err := fresh.OpenSnapshot(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, fsys, dirs[i])
	}
	if rep := checkRepo(t, fresh); len(rep.Problems) != 0 || rep.Snapshots != 2 {
		t.Errorf("check after concurrent ingests: %d snapshots, %v", rep.Snapshots, rep.Problems)
	}
}
