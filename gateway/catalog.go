package gateway

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Catalog is what the frontends of one gateway share: the repository's
// snapshot list, refreshed at most every TTL and only when asked (so an
// idle gateway reads nothing), names resolved against it, and opened
// snapshots kept, so that a request costs no header read. A snapshot made
// by a job or another process shows within TTL; a removed one goes.
type Catalog struct {
	src vfs.Catalog
	ttl time.Duration

	mu      sync.Mutex
	fetched time.Time
	list    []vfs.SnapshotInfo
	opened  map[string]vfs.FS // by full id
	refresh chan struct{}     // closed when the refresh in flight ends
	err     error
}

// NewCatalog caches src's list for ttl.
func NewCatalog(src vfs.Catalog, ttl time.Duration) *Catalog {
	return &Catalog{src: src, ttl: ttl, opened: map[string]vfs.FS{}}
}

// Snapshots returns the cached list, refreshing it when older than the TTL.
func (c *Catalog) Snapshots(ctx context.Context) ([]vfs.SnapshotInfo, error) {
	for {
		c.mu.Lock()
		if c.refresh == nil && time.Since(c.fetched) < c.ttl {
			list, err := c.list, c.err
			c.mu.Unlock()
			return list, err
		}
		if c.refresh != nil { // someone else refreshes: wait for them
			ch := c.refresh
			c.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		ch := make(chan struct{})
		c.refresh = ch
		c.mu.Unlock()
		// Detached from the request: a client that goes away must not
		// fail the refresh for the others waiting on it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		list, err := c.src.Snapshots(rctx)
		cancel()
		c.mu.Lock()
		c.list, c.err, c.fetched, c.refresh = list, err, time.Now(), nil
		if err == nil {
			live := map[string]bool{}
			for _, s := range list {
				live[s.ID] = true
			}
			for id := range c.opened {
				if !live[id] {
					delete(c.opened, id)
				}
			}
		}
		c.mu.Unlock()
		close(ch)
	}
}

// Invalidate makes the next call read the list again (after a job).
func (c *Catalog) Invalidate() {
	c.mu.Lock()
	c.fetched = time.Time{}
	c.mu.Unlock()
}

// Resolve finds the snapshot a name means in list: a full id,
// "snap-<prefix>" or a bare prefix of at least 8 hex characters,
// "JOB-latest" or "latest".
func Resolve(list []vfs.SnapshotInfo, name string) (vfs.SnapshotInfo, error) {
	lower := strings.ToLower(name)
	if lower == "latest" && len(list) > 0 {
		return list[0], nil
	}
	if job, ok := strings.CutSuffix(name, "-latest"); ok && job != "" {
		for _, s := range list { // newest first
			if s.Job == job {
				return s, nil
			}
		}
	}
	prefix := strings.TrimPrefix(lower, "snap-")
	if len(prefix) >= 8 {
		var found []vfs.SnapshotInfo
		for _, s := range list {
			if strings.HasPrefix(s.ID, prefix) {
				found = append(found, s)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
		if len(found) > 1 {
			return vfs.SnapshotInfo{}, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("%w: prefix matches %d snapshots", fs.ErrInvalid, len(found))}
		}
	}
	return vfs.SnapshotInfo{}, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// OpenSnapshot opens a snapshot named as Resolve accepts.
func (c *Catalog) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	list, err := c.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	info, err := Resolve(list, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	f := c.opened[info.ID]
	c.mu.Unlock()
	if f != nil {
		return f, nil
	}
	// The FS outlives this request: it must not carry the request's
	// cancellation (frontends scope reads with WithContext).
	f, err = c.src.OpenSnapshot(context.WithoutCancel(ctx), info.ID)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.opened[info.ID] = f
	c.mu.Unlock()
	return f, nil
}

// Access says which snapshots a user may read: those of the listed jobs
// and those whose id starts with one of the listed prefixes. Both empty
// means every snapshot.
type Access struct {
	Jobs      []string
	Snapshots []string
}

// All reports whether the access is unrestricted.
func (a Access) All() bool { return len(a.Jobs) == 0 && len(a.Snapshots) == 0 }

// Allows reports whether s may be read.
func (a Access) Allows(s vfs.SnapshotInfo) bool {
	if a.All() || (s.Job != "" && slices.Contains(a.Jobs, s.Job)) {
		return true
	}
	for _, p := range a.Snapshots {
		if strings.HasPrefix(s.ID, strings.TrimPrefix(strings.ToLower(p), "snap-")) {
			return true
		}
	}
	return false
}

// Restrict returns a view of c showing only what a allows. Names resolve
// within the view, so "JOB-latest" of a hidden job does not exist, and a
// prefix cannot probe for hidden snapshots.
func (c *Catalog) Restrict(a Access) vfs.Catalog {
	if a.All() {
		return c
	}
	return &restricted{c: c, a: a}
}

type restricted struct {
	c *Catalog
	a Access
}

func (r *restricted) Snapshots(ctx context.Context) ([]vfs.SnapshotInfo, error) {
	list, err := r.c.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]vfs.SnapshotInfo, 0, len(list))
	for _, s := range list {
		if r.a.Allows(s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (r *restricted) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	list, err := r.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	info, err := Resolve(list, name)
	if err != nil {
		return nil, err
	}
	return r.c.OpenSnapshot(ctx, info.ID)
}
