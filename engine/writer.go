package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/index"
	"github.com/plakar-gw/plakar-gw/engine/pack"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// blobWriter stores new blobs for one ingest: it dedups against the index
// and against what this ingest already wrote, seals blobs in the caller's
// goroutine (so sealing runs on every core), appends them to one open pack
// per blob type and uploads full packs in the background, one at a time:
// a local disk takes a pack faster than the pipeline fills the next one,
// and every pack in flight is 20 MiB of memory.
type blobWriter struct {
	r       *Repository
	parent  context.Context // for the index delta, after the uploads
	ctx     context.Context // cancelled when an upload fails
	uploads *errgroup.Group

	mu       sync.Mutex
	seen     map[blob.ID]struct{}
	builders map[blob.Type]*pack.Builder
	packs    []index.Pack

	blobsAdded  atomic.Uint64
	storedAdded atomic.Uint64
}

func newBlobWriter(ctx context.Context, r *Repository) *blobWriter {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(1)
	return &blobWriter{r: r, parent: ctx, ctx: gctx, uploads: g, seen: map[blob.ID]struct{}{}, builders: map[blob.Type]*pack.Builder{}}
}

// has reports whether id is already stored or being stored.
func (w *blobWriter) has(id blob.ID) (bool, error) {
	w.mu.Lock()
	_, ok := w.seen[id]
	w.mu.Unlock()
	if ok {
		return true, nil
	}
	_, ok, err := w.r.cache.Lookup(id)
	return ok, err
}

// reserve claims id for this caller; false means someone else stores it.
func (w *blobWriter) reserve(id blob.ID) (bool, error) {
	w.mu.Lock()
	if _, ok := w.seen[id]; ok {
		w.mu.Unlock()
		return false, nil
	}
	w.seen[id] = struct{}{}
	w.mu.Unlock()
	_, ok, err := w.r.cache.Lookup(id)
	return !ok, err
}

// Add stores plain unless an identical blob exists, and returns its id.
func (w *blobWriter) Add(t blob.Type, plain []byte) (blob.ID, error) {
	id := blob.ID(w.r.key.Sum(plain))
	return id, w.addWithID(t, id, plain)
}

func (w *blobWriter) addWithID(t blob.Type, id blob.ID, plain []byte) error {
	mine, err := w.reserve(id)
	if err != nil || !mine {
		return err
	}
	sp := sealBufs.Get().(*[]byte)
	defer sealBufs.Put(sp)
	sealed := pack.SealBlob(w.r.key, (*sp)[:0], t, id, plain)
	*sp = sealed
	w.blobsAdded.Add(1)
	w.storedAdded.Add(uint64(len(sealed)))
	w.mu.Lock()
	b := w.builders[t]
	if b == nil {
		b = newBuilder(t)
		w.builders[t] = b
	}
	b.Add(t, id, sealed, len(plain))
	full := b.Size() >= pack.TargetSize
	if full {
		delete(w.builders, t)
	}
	w.mu.Unlock()
	if full {
		return w.upload(b)
	}
	return w.ctx.Err()
}

func (w *blobWriter) upload(b *pack.Builder) error {
	var name blob.ID
	rand.Read(name[:])
	entries := append([]pack.Entry(nil), b.Entries()...)
	data := b.Finish(w.r.key)
	w.storedAdded.Add(uint64(len(data)) - uint64(b.Size()))
	w.uploads.Go(func() error {
		if err := w.r.store.Put(w.ctx, storage.KindPack, name.String(), bytes.NewReader(data)); err != nil {
			return err
		}
		if cap(data) >= pack.BufferSize {
			data = data[:0]
			packBufs.Put(&data)
		}
		w.mu.Lock()
		w.packs = append(w.packs, index.Pack{ID: name, Blobs: entries})
		w.mu.Unlock()
		return nil
	})
	return w.ctx.Err()
}

// Flush uploads the open packs, waits for every upload and writes one index
// delta naming them. Only then may a snapshot refer to the blobs.
func (w *blobWriter) Flush() error {
	w.mu.Lock()
	var open []*pack.Builder
	for t, b := range w.builders {
		open = append(open, b)
		delete(w.builders, t)
	}
	w.mu.Unlock()
	for _, b := range open {
		if err := w.upload(b); err != nil {
			break
		}
	}
	if err := w.uploads.Wait(); err != nil {
		return err
	}
	if len(w.packs) == 0 {
		return nil
	}
	d := &index.Delta{Packs: w.packs}
	var name blob.ID
	rand.Read(name[:])
	if err := w.r.store.Put(w.parent, storage.KindIndex, name.String(), bytes.NewReader(index.Seal(w.r.key, d))); err != nil {
		return err
	}
	return w.r.cache.Merge(name.String(), d)
}

// Buffers are reused across blobs and packs: allocating (and zeroing) a
// fresh 20 MiB pack per 16 MiB stored cost more CPU than sealing it.
var (
	sealBufs = sync.Pool{New: func() any { return new([]byte) }}
	packBufs = sync.Pool{New: func() any { b := make([]byte, 0, pack.BufferSize); return &b }}
)

// newBuilder starts a pack; tree packs are usually small and grow as needed.
func newBuilder(t blob.Type) *pack.Builder {
	if t == blob.Tree {
		return pack.NewBuilder(make([]byte, 0, 1<<20))
	}
	return pack.NewBuilder(*packBufs.Get().(*[]byte))
}
