package s3api

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// listTTL bounds how stale the bucket list may be: ListBuckets and every
// request's bucket lookup read the catalog at most this often, and a new
// snapshot is visible within it.
const listTTL = time.Second

// bucket is one snapshot under one of its names.
type bucket struct {
	Name string
	Snap vfs.SnapshotInfo
}

// buckets caches the catalog's snapshot list as buckets, and the opened
// snapshots, so that a request costs no storage read to find its tree.
type buckets struct {
	cat vfs.Catalog
	now func() time.Time

	mu      sync.Mutex
	fetched time.Time
	list    []bucket          // sorted by name
	byName  map[string]bucket //
	open    map[string]vfs.FS // by snapshot id
}

// bucketName matches what S3 accepts: 3-63 lowercase letters, digits, dots
// and hyphens, starting and ending with a letter or digit, no "..", and
// not shaped like an IP address.
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
var ipShaped = regexp.MustCompile(`^\d+\.\d+\.\d+\.\d+$`)

func validBucketName(s string) bool {
	return bucketName.MatchString(s) && !strings.Contains(s, "..") && !ipShaped.MatchString(s) &&
		!strings.Contains(s, ".-") && !strings.Contains(s, "-.")
}

// refresh reloads the list when it is older than listTTL.
func (b *buckets) refresh(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byName != nil && b.now().Sub(b.fetched) < listTTL {
		return nil
	}
	snaps, err := b.cat.Snapshots(ctx)
	if err != nil {
		return err
	}
	byName := make(map[string]bucket, len(snaps)+8)
	for _, s := range snaps { // newest first: the first of a job is its latest
		byName["snap-"+s.ShortID()] = bucket{"snap-" + s.ShortID(), s}
		// A job whose alias is not a valid bucket name (upper case,
		// underscores, too long) has no alias bucket; its snapshots are
		// still served under snap-<id>.
		if alias := s.Job + "-latest"; s.Job != "" && validBucketName(alias) && !strings.HasPrefix(alias, "snap-") {
			if _, dup := byName[alias]; !dup {
				byName[alias] = bucket{alias, s}
			}
		}
	}
	list := make([]bucket, 0, len(byName))
	open := map[string]vfs.FS{}
	for _, bk := range byName {
		list = append(list, bk)
		if fsys, ok := b.open[bk.Snap.ID]; ok {
			open[bk.Snap.ID] = fsys
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	b.list, b.byName, b.open, b.fetched = list, byName, open, b.now()
	return nil
}

// all returns every bucket, sorted by name.
func (b *buckets) all(ctx context.Context) ([]bucket, error) {
	if err := b.refresh(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.list, nil
}

// lookup finds a bucket by name.
func (b *buckets) lookup(ctx context.Context, name string) (bucket, bool, error) {
	if err := b.refresh(ctx); err != nil {
		return bucket{}, false, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, ok := b.byName[name]
	return bk, ok, nil
}

// exists reports whether name is a bucket, for virtual-hosted addressing.
func (b *buckets) exists(ctx context.Context, name string) bool {
	_, ok, _ := b.lookup(ctx, name)
	return ok
}

// fs opens a bucket's snapshot, once per snapshot while it is listed.
func (b *buckets) fs(ctx context.Context, bk bucket) (vfs.FS, error) {
	b.mu.Lock()
	fsys, ok := b.open[bk.Snap.ID]
	b.mu.Unlock()
	if ok {
		return fsys, nil
	}
	// By full id: an alias could have moved on since the list was read.
	// The tree outlives this request; every read goes through WithContext.
	fsys, err := b.cat.OpenSnapshot(context.WithoutCancel(ctx), bk.Snap.ID)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	if b.open != nil {
		b.open[bk.Snap.ID] = fsys
	}
	b.mu.Unlock()
	return fsys, nil
}
