// Package cache owns a repository's local cache: an embedded bbolt database
// holding the merged index (blob id → pack location), the names of the index
// deltas merged so far, and sealed tree nodes (TreeCacheBytes at most, the
// least recently used out first); and hot file chunks of repositories on
// object storage (Chunks), in files beside it. It is only a cache: it can
// be deleted at any time and is rebuilt from the repository, and it keeps the
// index on disk so that a repository of many millions of blobs does not have
// to fit in memory.
//
// bbolt allows one writer process per file, so a process that finds the
// cache busy (another ingest, a running gateway) takes the next free slot
// (index-1.db, index-2.db, …): each slot is a complete cache of its own.
package cache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/index"
)

var (
	bucketBlobs  = []byte("blobs")
	bucketDeltas = []byte("deltas")
	bucketMeta   = []byte("meta")
	// Tree nodes live in two generations: new ones go to the current
	// bucket, and when it holds half of TreeCacheBytes the older bucket is
	// emptied and becomes the current one. A node read from the older
	// generation is put in the current one again, so what is used stays.
	bucketTreesA = []byte("trees-a")
	bucketTreesB = []byte("trees-b")
	// Before generations, one unbounded bucket: dropped at open.
	bucketTreesV1 = []byte("trees")

	metaTreesCurrent = []byte("trees-current") // "a" or "b"
	metaTreesBytes   = []byte("trees-bytes")   // bytes put in the current generation
)

// TreeCacheBytes bounds the tree nodes kept on disk.
const TreeCacheBytes = 256 << 20

// MaxSlots bounds the number of concurrent processes with a cache each.
const MaxSlots = 16

// Cache is safe for concurrent use.
type Cache struct {
	db       *bolt.DB
	Path     string
	treesGen int64 // bytes of one tree generation
}

// Open opens (or creates) the first free cache slot in dir.
func Open(dir string) (*Cache, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	var lastErr error
	for slot := 0; slot < MaxSlots; slot++ {
		name := "index.db"
		if slot > 0 {
			name = fmt.Sprintf("index-%d.db", slot)
		}
		c, err := openSlot(filepath.Join(dir, name))
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	return nil, fmt.Errorf("cache: no free slot in %s: %w", dir, lastErr)
}

func openSlot(path string) (*Cache, error) {
	// NoSync: a cache damaged by a crash is detected at open and rebuilt.
	opts := &bolt.Options{Timeout: 50 * time.Millisecond, NoSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType}
	db, err := bolt.Open(path, 0o600, opts)
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, err
	}
	if err != nil {
		// Unreadable: a cache is disposable, start over.
		os.Remove(path)
		if db, err = bolt.Open(path, 0o600, opts); err != nil {
			return nil, err
		}
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketTreesV1) != nil {
			if err := tx.DeleteBucket(bucketTreesV1); err != nil {
				return err
			}
		}
		for _, b := range [][]byte{bucketBlobs, bucketDeltas, bucketMeta, bucketTreesA, bucketTreesB} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Cache{db: db, Path: path, treesGen: TreeCacheBytes / 2}, nil
}

// Close closes the database.
func (c *Cache) Close() error { return c.db.Close() }

func encodeHandle(h blob.Handle) []byte {
	b := make([]byte, 0, 1+32+15)
	b = append(b, byte(h.Type))
	b = append(b, h.Pack[:]...)
	b = binary.AppendUvarint(b, uint64(h.Offset))
	b = binary.AppendUvarint(b, uint64(h.Length))
	return binary.AppendUvarint(b, uint64(h.Raw))
}

func decodeHandle(id blob.ID, b []byte) (blob.Handle, error) {
	h := blob.Handle{ID: id}
	if len(b) < 34 {
		return h, errors.New("cache: short handle")
	}
	h.Type = blob.Type(b[0])
	copy(h.Pack[:], b[1:33])
	b = b[33:]
	var vals [3]uint64
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<32-1 {
			return h, errors.New("cache: bad handle")
		}
		vals[i], b = v, b[n:]
	}
	h.Offset, h.Length, h.Raw = uint32(vals[0]), uint32(vals[1]), uint32(vals[2])
	return h, nil
}

// Lookup returns where blob id is stored.
func (c *Cache) Lookup(id blob.ID) (h blob.Handle, ok bool, err error) {
	err = c.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketBlobs).Get(id[:])
		if v == nil {
			return nil
		}
		ok = true
		h, err = decodeHandle(id, v)
		return err
	})
	return h, ok, err
}

// Deltas returns the names of the merged index deltas.
func (c *Cache) Deltas() (map[string]bool, error) {
	out := map[string]bool{}
	err := c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDeltas).ForEach(func(k, _ []byte) error {
			out[string(k)] = true
			return nil
		})
	})
	return out, err
}

// Merge adds a delta's blobs and records its name, in one transaction.
func (c *Cache) Merge(name string, d *index.Delta) error {
	return c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketBlobs)
		for _, p := range d.Packs {
			for _, x := range p.Blobs {
				h := blob.Handle{ID: x.ID, Type: x.Type, Pack: p.ID, Offset: x.Offset, Length: x.Length, Raw: x.Raw}
				if err := b.Put(x.ID[:], encodeHandle(h)); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bucketDeltas).Put([]byte(name), nil)
	})
}

// Reset empties the cache (the index changed under it, e.g. after gc).
func (c *Cache) Reset() error {
	return c.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketBlobs, bucketDeltas, bucketMeta, bucketTreesA, bucketTreesB} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// Blobs calls fn for every indexed blob.
func (c *Cache) Blobs(fn func(h blob.Handle) error) error {
	return c.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
			h, err := decodeHandle(blob.ID(k), v)
			if err != nil {
				return err
			}
			return fn(h)
		})
	})
}

// treeBuckets returns the current and the older tree generation.
func treeBuckets(tx *bolt.Tx) (cur, old *bolt.Bucket) {
	a, b := tx.Bucket(bucketTreesA), tx.Bucket(bucketTreesB)
	if string(tx.Bucket(bucketMeta).Get(metaTreesCurrent)) == "b" {
		return b, a
	}
	return a, b
}

// Tree returns a cached sealed tree node. With stale, it was found in the
// older generation only: the caller puts it again to keep it.
func (c *Cache) Tree(id blob.ID) (out []byte, ok, stale bool) {
	c.db.View(func(tx *bolt.Tx) error {
		cur, old := treeBuckets(tx)
		v := cur.Get(id[:])
		if v == nil {
			v, stale = old.Get(id[:]), true
		}
		if v != nil {
			out, ok = append([]byte(nil), v...), true
		}
		return nil
	})
	return out, ok, ok && stale
}

// PutTree caches a sealed tree node. Concurrent calls are batched.
func (c *Cache) PutTree(id blob.ID, sealed []byte) error {
	return c.db.Batch(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		cur, _ := treeBuckets(tx)
		if err := cur.Put(id[:], sealed); err != nil {
			return err
		}
		var n uint64
		if v := meta.Get(metaTreesBytes); len(v) == 8 {
			n = binary.BigEndian.Uint64(v)
		}
		n += uint64(len(sealed))
		if int64(n) > c.treesGen {
			// The older generation goes; the full one becomes older.
			next, name := bucketTreesB, "b"
			if string(meta.Get(metaTreesCurrent)) == "b" {
				next, name = bucketTreesA, "a"
			}
			if err := tx.DeleteBucket(next); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(next); err != nil {
				return err
			}
			if err := meta.Put(metaTreesCurrent, []byte(name)); err != nil {
				return err
			}
			n = 0
		}
		return meta.Put(metaTreesBytes, binary.BigEndian.AppendUint64(nil, n))
	})
}
