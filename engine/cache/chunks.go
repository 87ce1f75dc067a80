package cache

import (
	"container/list"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/plakar-gw/plakar-gw/engine/blob"
)

// Chunks keeps hot chunks of a repository on object storage on local
// disk, as they are stored (sealed: the reader decrypts and verifies them
// as if they came from the store, and drops a damaged one), within a size
// limit, least recently used out first. A chunk is admitted on its second
// miss among the last ghostEntries: a client streaming a big file once
// would otherwise push every hot chunk out for bytes nobody reads again.
//
// Files are written to a temporary name and renamed, so processes sharing
// the folder never see a partial file. Each process keeps its own account
// of the folder (built from the files at open, oldest first): a file that
// another process evicted is a miss.
type Chunks struct {
	dir   string
	limit int64

	mu    sync.Mutex
	order *list.List // of *chunkEntry, most recent first
	byID  map[blob.ID]*list.Element
	size  int64
	ghost *lru.Cache[blob.ID, struct{}]
}

type chunkEntry struct {
	id   blob.ID
	size int64
}

// ghostEntries is how many recently missed chunk ids are remembered.
const ghostEntries = 1 << 16

// OpenChunks opens (or creates) the chunk cache in dir, holding at most
// limit bytes.
func OpenChunks(dir string, limit int64) (*Chunks, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("chunk cache: %w", err)
	}
	ghost, _ := lru.New[blob.ID, struct{}](ghostEntries)
	c := &Chunks{dir: dir, limit: limit, order: list.New(), byID: map[blob.ID]*list.Element{}, ghost: ghost}
	type found struct {
		id    blob.ID
		size  int64
		mtime time.Time
	}
	var files []found
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // evicted meanwhile
		}
		if filepath.Base(filepath.Dir(p)) == "tmp" {
			// Left by a process that died mid-write; a recent one may
			// belong to a live process sharing the folder.
			if time.Since(info.ModTime()) > time.Hour {
				os.Remove(p)
			}
			return nil
		}
		if id, ok := parseID(d.Name()); ok {
			files = append(files, found{id, info.Size(), info.ModTime()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("chunk cache: %w", err)
	}
	// Newest first, as the order list keeps them.
	slices.SortFunc(files, func(a, b found) int { return b.mtime.Compare(a.mtime) })
	for _, f := range files {
		c.byID[f.id] = c.order.PushBack(&chunkEntry{f.id, f.size})
		c.size += f.size
	}
	c.mu.Lock()
	c.evict()
	c.mu.Unlock()
	return c, nil
}

func parseID(name string) (blob.ID, bool) {
	var id blob.ID
	if hex.DecodedLen(len(name)) != len(id) {
		return id, false
	}
	_, err := hex.Decode(id[:], []byte(name))
	return id, err == nil
}

func (c *Chunks) path(id blob.ID) string {
	s := id.String()
	return filepath.Join(c.dir, s[:2], s)
}

// Get returns the sealed chunk id, in dst when it is large enough.
func (c *Chunks) Get(id blob.ID, dst []byte) ([]byte, bool) {
	c.mu.Lock()
	e, ok := c.byID[id]
	if ok {
		c.order.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	size := e.Value.(*chunkEntry).size
	f, err := os.Open(c.path(id))
	if err == nil {
		defer f.Close()
		if int64(cap(dst)) < size {
			dst = make([]byte, size)
		}
		dst = dst[:size]
		if _, err = io.ReadFull(f, dst); err == nil {
			return dst, true
		}
	}
	c.Remove(id) // evicted by another process, or unreadable
	return nil, false
}

// Missed records that chunk id was read from the store, and reports
// whether it is hot: missed before, recently. The caller then Puts it.
func (c *Chunks) Missed(id blob.ID) bool {
	if c.ghost.Contains(id) {
		c.ghost.Remove(id)
		return true
	}
	c.ghost.Add(id, struct{}{})
	return false
}

// Put stores the sealed chunk id, evicting the least recently used chunks
// past the limit. Failing to cache is not an error for the reader.
func (c *Chunks) Put(id blob.ID, sealed []byte) {
	if int64(len(sealed)) > c.limit {
		return
	}
	c.mu.Lock()
	_, ok := c.byID[id]
	c.mu.Unlock()
	if ok {
		return
	}
	if err := c.write(id, sealed); err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byID[id]; ok { // another reader put it meanwhile
		return
	}
	c.byID[id] = c.order.PushFront(&chunkEntry{id, int64(len(sealed))})
	c.size += int64(len(sealed))
	c.evict()
}

func (c *Chunks) write(id blob.ID, sealed []byte) error {
	f, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "chunk-*")
	if err != nil {
		return err
	}
	_, err = f.Write(sealed)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		p := c.path(id)
		if err = os.Rename(f.Name(), p); errors.Is(err, fs.ErrNotExist) {
			if err = os.MkdirAll(filepath.Dir(p), 0o700); err == nil {
				err = os.Rename(f.Name(), p)
			}
		}
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// evict removes least recently used chunks until the cache fits its limit.
// Called with mu held.
func (c *Chunks) evict() {
	for c.size > c.limit {
		e := c.order.Back()
		ce := e.Value.(*chunkEntry)
		c.order.Remove(e)
		delete(c.byID, ce.id)
		c.size -= ce.size
		os.Remove(c.path(ce.id))
	}
}

// Remove drops chunk id, damaged or gone.
func (c *Chunks) Remove(id blob.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[id]; ok {
		c.order.Remove(e)
		delete(c.byID, id)
		c.size -= e.Value.(*chunkEntry).size
		os.Remove(c.path(id))
	}
}

// Size returns the bytes held.
func (c *Chunks) Size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}
