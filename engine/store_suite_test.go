package engine_test

import (
	"context"
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
