// Package engine owns the repository: creating and opening it, the ingest
// pipeline, snapshots, reading them back through the vfs interface, check,
// rm and gc. Storage, the byte formats and the local cache live in
// sub-packages; this package puts them together.
package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/cache"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/pack"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// ErrWrongPassphrase reports a passphrase that does not open the repository.
var ErrWrongPassphrase = crypto.ErrWrongPassphrase

// Options open a repository.
type Options struct {
	Passphrase []byte
	// CacheDir is the root of local caches; the repository's cache is a
	// folder named after its id below it. Empty means the user's cache dir.
	CacheDir string
	// ChunkCache is how many decrypted chunks are kept in memory for
	// readers (at most 2 MiB each): clients reading the same hot small
	// files, or the same parts of a file at random, then cost no store
	// read and no decryption. Chunks a sequential reader loads ahead do
	// not go through it (they live in recycled buffers of the reader's
	// own). 0 means 16; negative disables it.
	ChunkCache int
	// ReadAhead is how many chunks a sequential reader loads ahead; 0
	// means 2, which keeps two cores decrypting for a reader of a local
	// folder. A store with a high latency per read (object storage) wants
	// more in flight. Beyond one chunk, read-ahead draws on a budget
	// shared by all readers (readAheadBudget).
	ReadAhead int
	// DiskChunkCache is how many bytes of hot chunks are kept in the
	// cache folder (cache.Chunks), for repositories where each store read
	// is a round trip to object storage; 0 disables it.
	DiskChunkCache int64
}

// CacheStats count cache hits and misses since the repository was opened.
type CacheStats struct {
	NodeHits, NodeMisses   uint64 // tree nodes (memory, then disk cache)
	ChunkHits, ChunkMisses uint64 // file chunks (memory)
	// DiskHits and DiskMisses count chunks found, or not, in the disk
	// chunk cache (only with Options.DiskChunkCache).
	DiskHits, DiskMisses uint64
	// ChunkReadAhead counts chunk reads served by a sequential reader's
	// read-ahead window, loaded before they were asked for.
	ChunkReadAhead uint64
}

// Repository is an open repository. It is safe for concurrent use.
type Repository struct {
	store     storage.Store
	key       *crypto.Key
	cfg       *configObject
	cache     *cache.Cache
	nodes     *nodeCache
	chunks    *lru.Cache[blob.ID, []byte] // nil when disabled
	disk      *cache.Chunks               // nil when disabled
	readAhead int
	raBudget  budget
	stats     struct {
		nodeHits, nodeMisses, chunkHits, chunkMisses, chunkReadAhead, diskHits, diskMisses atomic.Uint64
	}
	compression pack.Compression
	policyMu    sync.RWMutex
	policy      Policy
	syncMu      chanMutex
	bg          sync.WaitGroup // background cache writes
	lockTTL     lockTiming
}

// InitOptions are fixed when a repository is created.
type InitOptions struct {
	// Compression of new blobs: "zstd" (default), "s2" or "none".
	Compression string
	// Cipher of every object: "xaes-256-gcm" (default) or
	// "xchacha20-poly1305" (faster only on CPUs without AES instructions).
	Cipher string
}

// Init creates a repository in an empty store with the default options.
func Init(ctx context.Context, st storage.Store, passphrase []byte) error {
	return InitWith(ctx, st, passphrase, InitOptions{})
}

// InitWith creates a repository in an empty store.
func InitWith(ctx context.Context, st storage.Store, passphrase []byte, o InitOptions) error {
	if _, err := st.Stat(ctx, storage.KindConfig, configName); err == nil {
		return fmt.Errorf("%s: %w", st.Location(), ErrExists)
	}
	if len(passphrase) == 0 {
		return errors.New("an empty passphrase is not allowed")
	}
	if o.Compression == "" {
		o.Compression = "zstd"
	}
	if _, err := pack.ParseCompression(o.Compression); err != nil {
		return err
	}
	if o.Cipher == "" {
		o.Cipher = string(crypto.DefaultCipher)
	}
	if _, err := crypto.ParseCipher(o.Cipher); err != nil {
		return err
	}
	id := make([]byte, 32)
	rand.Read(id)
	c := configObject{authenticated: authenticated{Version: FormatVersion, ID: hex.EncodeToString(id), Chunker: DefaultChunker(), Compression: o.Compression, Cipher: o.Cipher}}
	c.KDF = crypto.DefaultKDF()
	wrapped, err := crypto.Wrap(crypto.NewMaster(), passphrase, c.KDF, c.ad())
	if err != nil {
		return err
	}
	c.WrappedKey = wrapped
	b, err := jsonIndent(c)
	if err != nil {
		return err
	}
	return st.Put(ctx, storage.KindConfig, configName, bytes.NewReader(b))
}

// Open opens the repository in st. The caller keeps ownership of st and
// closes it after Close.
func Open(ctx context.Context, st storage.Store, o Options) (*Repository, error) {
	c, err := readConfig(ctx, st)
	if err != nil {
		return nil, err
	}
	master, err := crypto.Unwrap(c.WrappedKey, o.Passphrase, c.KDF, c.ad())
	if err != nil {
		return nil, err
	}
	cipher, _ := crypto.ParseCipher(c.Cipher) // checked by readConfig
	key, err := crypto.FromMaster(master, cipher)
	if err != nil {
		return nil, err
	}
	dir := o.CacheDir
	if dir == "" {
		if dir, err = os.UserCacheDir(); err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "plakar-gw")
	}
	cc, err := cache.Open(filepath.Join(dir, c.ID))
	if err != nil {
		return nil, err
	}
	nodes := newNodeCache(nodeCacheBytes)
	comp, _ := pack.ParseCompression(c.Compression) // checked by readConfig
	r := &Repository{store: st, key: key, cfg: c, cache: cc, nodes: nodes, syncMu: newChanMutex(), lockTTL: defaultLockTiming(), compression: comp}
	r.readAhead = o.ReadAhead
	if r.readAhead <= 0 {
		r.readAhead = defaultReadAhead
	}
	r.raBudget.limit = readAheadBudget
	if n := o.ChunkCache; n >= 0 {
		if n == 0 {
			n = 16
		}
		r.chunks, _ = lru.New[blob.ID, []byte](n)
	}
	if o.DiskChunkCache > 0 {
		if r.disk, err = cache.OpenChunks(filepath.Join(dir, c.ID, "chunks"), o.DiskChunkCache); err != nil {
			r.Close()
			return nil, err
		}
	}
	if err := r.SyncIndex(ctx); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close waits for background cache writes and releases the cache; the store
// stays open.
func (r *Repository) Close() error {
	r.bg.Wait()
	return r.cache.Close()
}

// ID is the repository's random id.
func (r *Repository) ID() string { return r.cfg.ID }

// Store returns the underlying store.
func (r *Repository) Store() storage.Store { return r.store }

// Chunker returns the repository's chunker parameters.
func (r *Repository) Chunker() ChunkerParams { return r.cfg.Chunker }

// lookup finds a blob, re-reading the index once if it is not yet known
// (another process may have added it).
func (r *Repository) lookup(ctx context.Context, id blob.ID) (blob.Handle, error) {
	h, ok, err := r.cache.Lookup(id)
	if err == nil && !ok {
		if err = r.SyncIndex(ctx); err == nil {
			h, ok, err = r.cache.Lookup(id)
		}
	}
	if err != nil {
		return h, err
	}
	if !ok {
		return h, fmt.Errorf("blob %s is not in the index: %w", id, vfs.ErrCorrupt)
	}
	return h, nil
}

// readSealed fetches the sealed bytes of a blob.
func (r *Repository) readSealed(ctx context.Context, h blob.Handle) ([]byte, error) {
	return r.readSealedInto(ctx, h, nil)
}

// readSealedInto is readSealed into rb's memory when rb is not nil.
func (r *Repository) readSealedInto(ctx context.Context, h blob.Handle, rb *runBuf) ([]byte, error) {
	rc, err := r.store.Get(ctx, storage.KindPack, h.Pack.String(), int64(h.Offset), int64(h.Length))
	if err != nil {
		if errors.Is(err, storage.ErrNotExist) {
			return nil, fmt.Errorf("pack %s of blob %s is missing: %w", h.Pack, h.ID, vfs.ErrCorrupt)
		}
		return nil, err
	}
	defer rc.Close()
	var buf []byte
	if rb != nil {
		buf = rb.b[:h.Length]
	} else {
		buf = make([]byte, h.Length)
	}
	if _, err := io.ReadFull(rc, buf); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("pack %s is truncated at blob %s: %w", h.Pack, h.ID, vfs.ErrCorrupt)
		}
		return nil, err
	}
	return buf, nil
}

func (r *Repository) openBlob(h blob.Handle, sealed []byte) ([]byte, error) {
	plain, err := pack.OpenBlob(r.key, h, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (pack %s offset %d)", vfs.ErrCorrupt, err, h.Pack, h.Offset)
	}
	return plain, nil
}

// LoadBlob returns the verified plaintext of a blob.
func (r *Repository) LoadBlob(ctx context.Context, id blob.ID) ([]byte, error) {
	h, err := r.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	sealed, err := r.readSealed(ctx, h)
	if err != nil {
		return nil, err
	}
	plain, err := pack.OpenBlobInPlace(r.key, h, sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: %v (pack %s offset %d)", vfs.ErrCorrupt, err, h.Pack, h.Offset)
	}
	return plain, nil
}

// loadChunk is LoadBlob through the chunk cache, for file readers. The
// bytes returned are shared: callers must not modify them.
func (r *Repository) loadChunk(ctx context.Context, id blob.ID) ([]byte, error) {
	out, errs := r.loadChunks(ctx, []blob.ID{id})
	return out[0], errs[0]
}

// loadChunks loads several chunks; those stored one after the other in
// the same pack are read with one ranged read (one GET on object
// storage), up to maxCoalesce bytes. Each result is verified on its own;
// errs[i] says what failed for ids[i].
func (r *Repository) loadChunks(ctx context.Context, ids []blob.ID) (out [][]byte, errs []error) {
	out, errs, _ = r.loadChunksInto(ctx, ids, false)
	return out, errs
}

// loadChunksInto is loadChunks; with pooled, the chunks read from the
// store are not added to the chunk cache but returned in pooled buffers:
// bufs[i] holds out[i] with one reference the caller must release (nil for
// a chunk found in the cache or not loaded).
func (r *Repository) loadChunksInto(ctx context.Context, ids []blob.ID, pooled bool) (out [][]byte, errs []error, bufs []*runBuf) {
	out, errs = make([][]byte, len(ids)), make([]error, len(ids))
	if pooled {
		bufs = make([]*runBuf, len(ids))
	}
	hs := make([]blob.Handle, len(ids))
	for i, id := range ids {
		if r.chunks != nil {
			if b, ok := r.chunks.Get(id); ok {
				r.stats.chunkHits.Add(1)
				out[i] = b
				continue
			}
		}
		r.stats.chunkMisses.Add(1)
		hs[i], errs[i] = r.lookup(ctx, id)
		if errs[i] == nil && r.disk != nil {
			out[i] = r.loadFromDisk(hs[i], pooled, bufs, i)
		}
	}
	const maxCoalesce = 8 << 20
	for i := 0; i < len(ids); {
		if out[i] != nil || errs[i] != nil {
			i++
			continue
		}
		// The run i..j-1: same pack, each blob right after the previous.
		j, end := i+1, int64(hs[i].Offset)+int64(hs[i].Length)
		for j < len(ids) && out[j] == nil && errs[j] == nil && hs[j].Pack == hs[i].Pack &&
			int64(hs[j].Offset) == end && end+int64(hs[j].Length)-int64(hs[i].Offset) <= maxCoalesce {
			end += int64(hs[j].Length)
			j++
		}
		run := blob.Handle{Pack: hs[i].Pack, Offset: hs[i].Offset, Length: uint32(end - int64(hs[i].Offset)), ID: hs[i].ID}
		var rb *runBuf
		if pooled {
			rb = newRunBuf(int(run.Length))
		}
		sealed, err := r.readSealedInto(ctx, run, rb)
		if err == nil && r.disk != nil {
			// Before the blobs are decrypted in place.
			for k := i; k < j; k++ {
				r.stats.diskMisses.Add(1)
				if r.disk.Missed(ids[k]) {
					off := int64(hs[k].Offset) - int64(hs[i].Offset)
					r.disk.Put(ids[k], sealed[off:off+int64(hs[k].Length)])
				}
			}
		}
		// One read, then each blob opened on its own goroutine: the
		// decryption and hashing of a run use every core.
		open := func(k int) {
			off := int64(hs[k].Offset) - int64(hs[i].Offset)
			plain, err := pack.OpenBlobInPlace(r.key, hs[k], sealed[off:off+int64(hs[k].Length)])
			if err != nil {
				errs[k] = fmt.Errorf("%w: %v (pack %s offset %d)", vfs.ErrCorrupt, err, hs[k].Pack, hs[k].Offset)
				return
			}
			out[k] = plain
			switch {
			case rb != nil:
				bufs[k] = rb
			case r.chunks != nil:
				r.chunks.Add(ids[k], plain)
			}
		}
		switch {
		case err != nil:
			for k := i; k < j; k++ {
				errs[k] = err
			}
		case j == i+1:
			open(i) // a single blob: no goroutine to start and wait for
		default:
			var wg sync.WaitGroup
			for k := i; k < j; k++ {
				wg.Go(func() { open(k) })
			}
			wg.Wait()
		}
		if rb != nil {
			n := 0
			for k := i; k < j; k++ {
				if bufs[k] != nil {
					n++
				}
			}
			rb.hold(n)
		}
		i = j
	}
	return out, errs, bufs
}

// loadFromDisk opens chunk h from the disk chunk cache: nil when it is
// not there, or damaged (then dropped, and read from the store as if never
// cached). With pooled, the chunk lives in a pooled buffer, bufs[i], with
// one reference for the caller.
func (r *Repository) loadFromDisk(h blob.Handle, pooled bool, bufs []*runBuf, i int) []byte {
	var rb *runBuf
	var dst []byte
	if pooled {
		rb = newRunBuf(int(h.Length))
		dst = rb.b
	}
	sealed, ok := r.disk.Get(h.ID, dst)
	if ok && int64(len(sealed)) == int64(h.Length) {
		if plain, err := pack.OpenBlobInPlace(r.key, h, sealed); err == nil {
			r.stats.diskHits.Add(1)
			switch {
			case rb != nil:
				rb.hold(1)
				bufs[i] = rb
			case r.chunks != nil:
				r.chunks.Add(h.ID, plain)
			}
			return plain
		}
	}
	if ok {
		r.disk.Remove(h.ID)
	}
	if rb != nil {
		rb.hold(0)
	}
	return nil
}

// CacheStats returns the cache counters.
func (r *Repository) CacheStats() CacheStats {
	return CacheStats{NodeHits: r.stats.nodeHits.Load(), NodeMisses: r.stats.nodeMisses.Load(),
		ChunkHits: r.stats.chunkHits.Load(), ChunkMisses: r.stats.chunkMisses.Load(),
		ChunkReadAhead: r.stats.chunkReadAhead.Load(),
		DiskHits:       r.stats.diskHits.Load(), DiskMisses: r.stats.diskMisses.Load()}
}

// loadNode reads a tree node through the memory and disk caches. The disk
// cache holds sealed bytes, so a damaged or planted cache entry fails the
// same checks as a damaged pack.
func (r *Repository) loadNode(ctx context.Context, id blob.ID) (*tree.Node, error) {
	if n, ok := r.nodes.Get(id); ok {
		r.stats.nodeHits.Add(1)
		return n, nil
	}
	h, err := r.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	sealed, cached, stale := r.cache.Tree(id)
	if cached {
		r.stats.nodeHits.Add(1)
	} else {
		r.stats.nodeMisses.Add(1)
	}
	var plain []byte
	if cached {
		if plain, err = r.openBlob(h, sealed); err != nil {
			cached = false // a damaged cache entry: read the pack, replace it
		}
	}
	if !cached {
		if sealed, err = r.readSealed(ctx, h); err != nil {
			return nil, err
		}
		if plain, err = r.openBlob(h, sealed); err != nil {
			return nil, err
		}
	}
	n, err := tree.Decode(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: tree node %s: %v", vfs.ErrCorrupt, id, err)
	}
	if !cached || stale {
		// bbolt batches writes with a delay of a few ms: a reader walking
		// cold nodes one by one must not wait for it.
		r.bg.Add(1)
		go func() { defer r.bg.Done(); r.cache.PutTree(id, sealed) }()
	}
	r.nodes.Add(id, n, len(plain))
	return n, nil
}

// nodeCacheBytes bounds the decoded tree nodes kept in memory, by their
// encoded size times nodeWeight: a count alone let 8,192 full leaves of a
// million-entry listing hold most of a gigabyte. Walks and listings read
// each leaf once, in order, so a small cache costs them nothing; the disk
// cache keeps the sealed nodes anyway.
const (
	nodeCacheBytes = 24 << 20
	nodeWeight     = 6 // a decoded entry (Go strings, summaries) takes about 6 times its encoded bytes
)

// nodeCache is an LRU of decoded tree nodes bounded by approximate bytes.
type nodeCache struct {
	mu    sync.Mutex
	lru   *lru.Cache[blob.ID, weighted]
	bytes int
	limit int
}

type weighted struct {
	n *tree.Node
	w int
}

func newNodeCache(limit int) *nodeCache {
	c := &nodeCache{limit: limit}
	// The count bound only backs up the byte bound (tiny nodes).
	c.lru, _ = lru.NewWithEvict(1<<16, func(_ blob.ID, v weighted) { c.bytes -= v.w })
	return c
}

func (c *nodeCache) Get(id blob.ID) (*tree.Node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.lru.Get(id)
	return v.n, ok
}

func (c *nodeCache) Add(id blob.ID, n *tree.Node, encoded int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := encoded*nodeWeight + 256
	if old, ok := c.lru.Peek(id); ok {
		c.bytes -= old.w // Add replaces it without an eviction
	}
	c.lru.Add(id, weighted{n, w})
	c.bytes += w
	for c.bytes > c.limit && c.lru.Len() > 1 {
		c.lru.RemoveOldest()
	}
}

func (c *nodeCache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lru.Purge()
	c.bytes = 0
}

const (
	defaultReadAhead = 2
	// readAheadBudget bounds the bytes loaded ahead, beyond each reader's
	// first chunk, by all readers together: a lone reader gets its full
	// window, 64 readers at once do not multiply the memory.
	readAheadBudget = 32 << 20
)

// budget is a byte count that can be taken while it lasts and given back.
type budget struct {
	mu    sync.Mutex
	used  int64
	limit int64
}

func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.limit {
		return false
	}
	b.used += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	b.mu.Unlock()
}
