package enginetest

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// Passphrase is the passphrase of every repository NewRepo makes.
const Passphrase = "enginetest passphrase"

// NewRepo initialises a folder repository in a temporary directory and
// opens it; it is closed when the test ends. Its root folder is returned
// too, for tests that look at or damage the stored files.
func NewRepo(tb testing.TB) (*engine.Repository, string) {
	tb.Helper()
	ctx := context.Background()
	root := filepath.Join(tb.TempDir(), "repo")
	st, err := fsstore.New(ctx, fsstore.Config{Path: root})
	if err != nil {
		tb.Fatal(err)
	}
	return NewRepoOn(tb, st), root
}

// NewRepoOn initialises a repository in st (empty) and opens it with a
// cache of its own; both are closed when the test ends.
func NewRepoOn(tb testing.TB, st storage.Store) *engine.Repository {
	tb.Helper()
	if err := engine.Init(context.Background(), st, []byte(Passphrase)); err != nil {
		tb.Fatal(err)
	}
	r := OpenRepo(tb, st)
	tb.Cleanup(func() { st.Close() })
	return r
}

// OpenRepo opens the repository in st with a fresh cache, as another
// process or gateway would; it is closed when the test ends.
func OpenRepo(tb testing.TB, st storage.Store) *engine.Repository {
	tb.Helper()
	r, err := engine.Open(context.Background(), st, engine.Options{Passphrase: []byte(Passphrase), CacheDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

// Ingest ingests the folder src into r with the fs importer and fails the
// test on an error. The snapshot may record per-path errors.
func Ingest(tb testing.TB, r *engine.Repository, src string, o engine.IngestOptions) *snapshot.Snapshot {
	tb.Helper()
	imp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: src})
	if err != nil {
		tb.Fatal(err)
	}
	defer imp.Close()
	s, err := r.Ingest(context.Background(), imp, o)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// DamageLargestPack flips 16 bytes in the middle of the largest pack of the
// folder repository at root (the one holding a big file's chunks), as a
// failing disk would, and returns its path.
func DamageLargestPack(tb testing.TB, root string) string {
	tb.Helper()
	var largest string
	var size int64
	filepath.WalkDir(filepath.Join(root, "packs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if st, _ := d.Info(); st.Size() > size {
				largest, size = p, st.Size()
			}
		}
		return err
	})
	if size < 1<<20 {
		tb.Fatalf("no data pack of 1 MiB or more under %s", root)
	}
	b, err := os.ReadFile(largest)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range 16 {
		b[len(b)/2+i] ^= 0x55
	}
	if err := os.WriteFile(largest, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return largest
}
