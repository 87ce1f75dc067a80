package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
)

// TestStoreSuiteFolder runs the engine's store-dependent suite on the
// local folder store; engine/storage/s3 runs the same suite on S3.
func TestStoreSuiteFolder(t *testing.T) {
	enginetest.RunStoreSuite(t, func(t *testing.T) func() storage.Store {
		root := filepath.Join(t.TempDir(), "repo")
		return func() storage.Store {
			st, err := fsstore.New(context.Background(), fsstore.Config{Path: root})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
	})
}

// TestMain lets the test binary run as a child process of TestLockRace.
func TestMain(m *testing.M) {
	enginetest.LockRaceChild(func(root string) (storage.Store, error) {
		return fsstore.New(context.Background(), fsstore.Config{Path: root})
	})
	os.Exit(m.Run())
}

// TestLockRace: gc and an ingest in two processes, stopped at each lock
// point in turn (engine/storage/s3 plays the same on S3).
func TestLockRace(t *testing.T) {
	enginetest.RunLockRace(t, func(t *testing.T) string { return filepath.Join(t.TempDir(), "repo") },
		func(root string) (storage.Store, error) {
			return fsstore.New(context.Background(), fsstore.Config{Path: root})
		})
}
