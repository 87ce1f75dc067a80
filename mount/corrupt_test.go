package mount_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/mount"
)

// TestCorruptPack damages a data pack of a real repository: reading the
// file through the mount fails with EIO, and whatever was read before
// the damage is the file's own bytes.
func TestCorruptPack(t *testing.T) {
	requireFUSE(t)
	src := t.TempDir()
	want := enginetest.RandData(11, 4<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "data.bin"), want); err != nil {
		t.Fatal(err)
	}
	repo, root := enginetest.NewRepo(t)
	s := enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "c"})

	// The largest pack holds the file's chunks.
	enginetest.DamageLargestPack(t, root)

	mnt := mountCatalog(t, repo, mount.Options{})
	got, err := os.ReadFile(filepath.Join(mnt, "snap-"+s.ID.String()[:12], "data.bin"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("reading a file of a damaged pack: %d bytes, %v; want EIO", len(got), err)
	}
	if len(got) >= len(want) || !bytes.Equal(got, want[:len(got)]) {
		t.Fatalf("read %d bytes before the error, not a prefix of the file", len(got))
	}
}
