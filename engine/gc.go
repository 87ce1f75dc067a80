package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/index"
	"github.com/plakar-gw/plakar-gw/engine/pack"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// GCOptions tune gc.
type GCOptions struct {
	DryRun bool
}

// GCReport says what gc removed.
type GCReport struct {
	PacksDeleted int
	BytesFreed   int64
	BlobsKept    int
}

// GC deletes packs that no snapshot uses, under an exclusive lock. It first
// writes one compacted index delta that supersedes all others, then deletes
// the old deltas, then the packs: a crash at any point leaves an index that
// still covers every pack a snapshot uses.
func (r *Repository) GC(ctx context.Context, o GCOptions) (*GCReport, error) {
	unlock, err := r.Lock(ctx, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := r.SyncIndex(ctx); err != nil {
		return nil, err
	}
	used, err := r.markUsed(ctx, nil) // any problem aborts gc
	if err != nil {
		return nil, fmt.Errorf("gc refuses to run on a damaged repository (run check): %w", err)
	}
	live := map[blob.ID][]pack.Entry{}
	err = r.cache.Blobs(func(h blob.Handle) error {
		if _, ok := used[h.ID]; ok {
			live[h.Pack] = nil
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = r.cache.Blobs(func(h blob.Handle) error {
		if entries, ok := live[h.Pack]; ok {
			live[h.Pack] = append(entries, pack.Entry{Type: h.Type, ID: h.ID, Offset: h.Offset, Length: h.Length, Raw: h.Raw})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	packs, err := r.packSizes(ctx)
	if err != nil {
		return nil, err
	}
	rep := &GCReport{}
	for _, e := range live {
		rep.BlobsKept += len(e)
	}
	var dead []blob.ID
	for p, size := range packs {
		if _, ok := live[p]; !ok {
			dead = append(dead, p)
			rep.PacksDeleted++
			rep.BytesFreed += size
		}
	}
	if o.DryRun || len(dead) == 0 {
		return rep, nil
	}
	if err := r.compactIndex(ctx, live); err != nil {
		return nil, err
	}
	for _, p := range dead {
		if err := r.store.Delete(ctx, storage.KindPack, p.String()); err != nil {
			return nil, err
		}
	}
	return rep, r.SyncIndex(ctx)
}

func (r *Repository) compactIndex(ctx context.Context, live map[blob.ID][]pack.Entry) error {
	var old []string
	for name, err := range r.store.List(ctx, storage.KindIndex) {
		if err != nil {
			return err
		}
		old = append(old, name)
	}
	d := &index.Delta{Supersedes: old}
	for p, entries := range live {
		d.Packs = append(d.Packs, index.Pack{ID: p, Blobs: entries})
	}
	var name blob.ID
	rand.Read(name[:])
	if err := r.store.Put(ctx, storage.KindIndex, name.String(), bytes.NewReader(index.Seal(r.key, d))); err != nil {
		return err
	}
	for _, o := range old {
		if err := r.store.Delete(ctx, storage.KindIndex, o); err != nil {
			return err
		}
	}
	return nil
}
