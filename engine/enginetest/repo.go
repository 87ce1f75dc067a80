package enginetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
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
	if err := engine.Init(ctx, st, []byte(Passphrase)); err != nil {
		tb.Fatal(err)
	}
	r, err := engine.Open(ctx, st, engine.Options{Passphrase: []byte(Passphrase), CacheDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		r.Close()
		st.Close()
	})
	return r, root
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
