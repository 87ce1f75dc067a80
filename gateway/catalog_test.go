package gateway

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

// countingCatalog counts the list reads that reach the repository.
type countingCatalog struct {
	*vfstest.Catalog
	lists atomic.Int32
}

func (c *countingCatalog) Snapshots(ctx context.Context) ([]vfs.SnapshotInfo, error) {
	c.lists.Add(1)
	return c.Catalog.Snapshots(ctx)
}

func TestCatalogCacheRefreshAndAccess(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	docs := &vfstest.Snapshot{Info: vfstest.Info(0xaa, "docs", t0), Files: fstest.MapFS{"d": {Data: []byte("d")}}}
	web := &vfstest.Snapshot{Info: vfstest.Info(0xbb, "web", t0.Add(time.Hour)), Files: fstest.MapFS{"w": {Data: []byte("w")}}}
	src := &countingCatalog{Catalog: vfstest.New(docs, web)}
	c := NewCatalog(src, 200*time.Millisecond)
	ctx := context.Background()
	for range 10 {
		if list, err := c.Snapshots(ctx); err != nil || len(list) != 2 {
			t.Fatalf("%v %v", list, err)
		}
	}
	if n := src.lists.Load(); n != 1 {
		t.Errorf("%d list reads for 10 calls within the TTL", n)
	}
	for _, name := range []string{"docs-latest", "snap-" + docs.Info.ID[:12], docs.Info.ID[:8], docs.Info.ID} {
		f, err := c.OpenSnapshot(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := fs.Stat(f, "d"); err != nil {
			t.Errorf("%s opened the wrong snapshot: %v", name, err)
		}
	}
	if f, err := c.OpenSnapshot(ctx, "latest"); err != nil {
		t.Fatal(err)
	} else if _, err := fs.Stat(f, "w"); err != nil {
		t.Error("latest is not the newest")
	}
	for _, name := range []string{"nope-latest", "snap-0123", "aaaa", ""} {
		if _, err := c.OpenSnapshot(ctx, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%q: %v", name, err)
		}
	}

	// A new snapshot shows after the TTL, a removed one goes.
	src.Add(&vfstest.Snapshot{Info: vfstest.Info(0xcc, "docs", t0.Add(2*time.Hour)), Files: fstest.MapFS{"new": {}}})
	src.Remove(web.Info.ID)
	time.Sleep(250 * time.Millisecond)
	f, err := c.OpenSnapshot(ctx, "docs-latest")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(f, "new"); err != nil {
		t.Error("docs-latest did not move to the new snapshot")
	}
	if _, err := c.OpenSnapshot(ctx, "web-latest"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed snapshot still opens: %v", err)
	}

	// A restricted view hides other jobs, by name and by prefix.
	r := c.Restrict(Access{Jobs: []string{"docs"}})
	list, _ := r.Snapshots(ctx)
	for _, s := range list {
		if s.Job != "docs" {
			t.Errorf("restricted view lists job %q", s.Job)
		}
	}
	src.Add(web)
	c.Invalidate()
	for _, name := range []string{"web-latest", web.Info.ID[:8], "latest"} {
		f, err := r.OpenSnapshot(ctx, name)
		if name == "latest" {
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fs.Stat(f, "w"); err == nil {
				t.Error("latest in a restricted view is another job's snapshot")
			}
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("restricted view opens %q: %v", name, err)
		}
	}
	if full, _ := c.OpenSnapshot(ctx, "web-latest"); full == nil {
		t.Error("unrestricted view lost web-latest")
	}
	if !(Access{}).All() || (Access{Snapshots: []string{"snap-aaaa"}}).Allows(web.Info) || !(Access{Snapshots: []string{"snap-bbbb"}}).Allows(web.Info) {
		t.Error("Access.Allows")
	}
}
