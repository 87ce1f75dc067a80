package engine

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/index"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// chanMutex is a mutex whose Lock can be abandoned when ctx is done.
type chanMutex chan struct{}

func newChanMutex() chanMutex { return make(chanMutex, 1) }

func (m chanMutex) Lock(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m chanMutex) Unlock() { <-m }

// SyncIndex merges index deltas that appeared since the last call into the
// local cache, and rebuilds the cache when a merged delta has disappeared
// (gc compacted the index).
func (r *Repository) SyncIndex(ctx context.Context) error {
	if err := r.syncMu.Lock(ctx); err != nil {
		return err
	}
	defer r.syncMu.Unlock()
	var names []string
	present := map[string]bool{}
	for name, err := range r.store.List(ctx, storage.KindIndex) {
		if err != nil {
			return err
		}
		names = append(names, name)
		present[name] = true
	}
	merged, err := r.cache.Deltas()
	if err != nil {
		return err
	}
	for name := range merged {
		if !present[name] {
			if err := r.cache.Reset(); err != nil {
				return err
			}
			r.nodes.Purge()
			merged = map[string]bool{}
			break
		}
	}
	var todo []string
	for _, n := range names {
		if !merged[n] {
			todo = append(todo, n)
		}
	}
	return r.mergeDeltas(ctx, todo)
}

func (r *Repository) mergeDeltas(ctx context.Context, names []string) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, name := range names {
		g.Go(func() error {
			d, err := r.readDelta(ctx, name)
			if err != nil {
				return err
			}
			return r.cache.Merge(name, d)
		})
	}
	return g.Wait()
}

func (r *Repository) readDelta(ctx context.Context, name string) (*index.Delta, error) {
	b, err := r.readObject(ctx, storage.KindIndex, name)
	if err != nil {
		return nil, err
	}
	d, err := index.Open(r.key, b)
	if err != nil {
		return nil, fmt.Errorf("index object %s: %w", name, err)
	}
	return d, nil
}

func (r *Repository) readObject(ctx context.Context, kind storage.Kind, name string) ([]byte, error) {
	rc, err := r.store.Get(ctx, kind, name, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
