package engine

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/pack"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// CheckOptions select how deep check goes.
type CheckOptions struct {
	ReadData bool             // read every pack and verify every blob
	Progress func(msg string) // optional
}

// CheckReport is what check found. Problems empty means healthy.
type CheckReport struct {
	Snapshots, Trees, Blobs, Packs int
	UnusedPacks                    int // packs no index names (left by a crash; gc removes them)
	Problems                       []string

	mu sync.Mutex // packs are read concurrently
}

func (c *CheckReport) problem(format string, args ...any) {
	c.mu.Lock()
	c.Problems = append(c.Problems, fmt.Sprintf(format, args...))
	c.mu.Unlock()
}

// Check verifies the structure of the repository: every snapshot header
// opens, every tree node referenced decodes, every blob referenced is in the
// index and inside an existing pack. With ReadData it also reads every
// indexed pack and checks every blob's id against its content.
func (r *Repository) Check(ctx context.Context, o CheckOptions) (*CheckReport, error) {
	if o.Progress == nil {
		o.Progress = func(string) {}
	}
	rep := &CheckReport{}
	if err := r.SyncIndex(ctx); err != nil {
		rep.problem("index: %v", err)
		return rep, nil
	}
	packs, err := r.packSizes(ctx)
	if err != nil {
		return nil, err
	}
	rep.Packs = len(packs)
	o.Progress(fmt.Sprintf("checking %d packs against the index", len(packs)))
	indexed := map[blob.ID]bool{}
	err = r.cache.Blobs(func(h blob.Handle) error {
		indexed[h.Pack] = true
		size, ok := packs[h.Pack]
		switch {
		case !ok:
			rep.problem("blob %s: pack %s is missing", h.ID, h.Pack)
		case int64(h.Offset)+int64(h.Length) > size-pack.TrailerSize:
			rep.problem("blob %s: lies past the end of pack %s", h.ID, h.Pack)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for p := range packs {
		if !indexed[p] {
			rep.UnusedPacks++
		}
	}
	o.Progress("checking snapshots and trees")
	used, err := r.markUsed(ctx, rep)
	if err != nil {
		return nil, err
	}
	rep.Blobs = len(used)
	if o.ReadData {
		// Reading, decrypting and hashing overlap across packs: one worker
		// per core plus one waiting on the disk.
		g, gctx := errgroup.WithContext(ctx)
		workers := runtime.GOMAXPROCS(0) + 1
		g.SetLimit(workers)
		// Each worker's buffers, kept for its next pack (a sync.Pool is
		// emptied by the very collections fresh buffers would cause).
		bufs := make(chan *checkBufs, workers)
		for range workers {
			bufs <- &checkBufs{r: bufio.NewReaderSize(nil, 256<<10)}
		}
		for p := range packs {
			if !indexed[p] {
				// Garbage of an interrupted ingest, which no snapshot can
				// reach: gc removes it. An S3 server may even have kept
				// the truncated body of a PUT whose client was killed
				// (versitygw does), so it is not read.
				continue
			}
			o.Progress(fmt.Sprintf("reading pack %s", p.Short()))
			g.Go(func() error {
				b := <-bufs
				defer func() { bufs <- b }()
				return r.checkPack(gctx, p, packs[p], rep, b)
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func (r *Repository) packSizes(ctx context.Context) (map[blob.ID]int64, error) {
	out := map[blob.ID]int64{}
	for name, err := range r.store.List(ctx, storage.KindPack) {
		if err != nil {
			return nil, err
		}
		id, err := blob.ParseID(name)
		if err != nil {
			continue
		}
		info, err := r.store.Stat(ctx, storage.KindPack, name)
		if err != nil {
			return nil, err
		}
		out[id] = info.Size
	}
	return out, nil
}

// markUsed walks every snapshot and returns the set of blobs they use.
// Problems go to rep when it is not nil; otherwise the first one is an error.
func (r *Repository) markUsed(ctx context.Context, rep *CheckReport) (map[blob.ID]blob.Type, error) {
	snaps, bad, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	used := map[blob.ID]blob.Type{}
	fail := func(format string, args ...any) error {
		if rep == nil {
			return fmt.Errorf(format, args...)
		}
		rep.problem(format, args...)
		return nil
	}
	for name, e := range bad {
		if err := fail("snapshot %s: %v", name, e); err != nil {
			return nil, err
		}
	}
	for _, s := range snaps {
		if rep != nil {
			rep.Snapshots++
		}
		if err := r.markSnapshot(ctx, s, used, fail); err != nil {
			return nil, err
		}
	}
	if rep != nil {
		for id, t := range used {
			if t == blob.Tree {
				rep.Trees++
			}
			if _, ok, _ := r.cache.Lookup(id); !ok {
				rep.problem("%s blob %s is used but not in the index", t, id)
			}
		}
	}
	return used, nil
}

func (r *Repository) markSnapshot(ctx context.Context, s *snapshot.Snapshot, used map[blob.ID]blob.Type, fail func(string, ...any) error) error {
	for _, p := range s.Header.Errors {
		used[p.ID] = blob.Tree
	}
	var walk func(id blob.ID, where string) error
	walk = func(id blob.ID, where string) error {
		if _, seen := used[id]; seen {
			return nil
		}
		used[id] = blob.Tree
		n, err := r.loadNode(ctx, id)
		if err != nil {
			return fail("snapshot %s: %s: tree node %s: %v", s.ID.Short(), where, id.Short(), err)
		}
		for _, c := range n.Children {
			if err := walk(c.ID, where); err != nil {
				return err
			}
		}
		for i := range n.Entries {
			e := &n.Entries[i]
			for _, c := range e.Chunks {
				used[c.ID] = blob.Data
			}
			if e.Mode.IsDir() {
				if err := walk(e.Subtree, where+e.Name+"/"); err != nil {
					return err
				}
			}
		}
		return ctx.Err()
	}
	return walk(s.Header.Root, "/")
}

// checkBufs are one check worker's buffers: a read buffer, a sealed blob
// (decrypted in place), and the plaintext of compressed blobs. A pack is
// streamed blob by blob: reading whole packs made check the hungriest
// command (173 MiB peak on a 1.4 GiB repository), and its memory would
// grow with the pack size.
type checkBufs struct {
	r             *bufio.Reader
	sealed, plain []byte
}

// checkPack opens every blob the footer of pack p lists, reading the pack
// in order with b's buffers.
func (r *Repository) checkPack(ctx context.Context, p blob.ID, size int64, rep *CheckReport, b *checkBufs) error {
	entries, dataSize, err := r.packFooter(ctx, p, size)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.problem("pack %s: %v", p, err)
		return nil
	}
	slices.SortFunc(entries, func(a, b pack.Entry) int { return cmp.Compare(a.Offset, b.Offset) })
	rc, err := r.store.Get(ctx, storage.KindPack, p.String(), 0, dataSize)
	if err != nil {
		rep.problem("pack %s: %v", p, err)
		return nil
	}
	defer rc.Close()
	b.r.Reset(rc)
	defer b.r.Reset(nil)
	var pos int64
	for _, e := range entries {
		off, n := int64(e.Offset), int64(e.Length)
		if off < pos || off+n > dataSize {
			rep.problem("pack %s: blob %s at offset %d overlaps another or the footer", p, e.ID, e.Offset)
			continue
		}
		if _, err := b.r.Discard(int(off - pos)); err != nil {
			return r.shortPack(p, rep, err)
		}
		if int64(cap(b.sealed)) < n {
			b.sealed = make([]byte, n)
		}
		sealed := b.sealed[:n]
		if _, err := io.ReadFull(b.r, sealed); err != nil {
			return r.shortPack(p, rep, err)
		}
		pos = off + n
		h := blob.Handle{ID: e.ID, Type: e.Type, Pack: p, Offset: e.Offset, Length: e.Length, Raw: e.Raw}
		if err := pack.CheckBlobInPlace(r.key, h, sealed, &b.plain); err != nil {
			rep.problem("pack %s: damaged blob %s at offset %d: %v", p, e.ID, e.Offset, err)
		}
	}
	return nil
}

// shortPack records a pack that ended before its footer said; other read
// errors fail the check.
func (r *Repository) shortPack(p blob.ID, rep *CheckReport, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		rep.problem("pack %s: shorter than its footer says", p)
		return nil
	}
	return err
}

// packFooter reads the footer of pack p (size bytes long) with two ranged
// reads and returns its entries and where its blobs end.
func (r *Repository) packFooter(ctx context.Context, p blob.ID, size int64) ([]pack.Entry, int64, error) {
	if size < pack.TrailerSize {
		return nil, 0, fmt.Errorf("%w: too short", pack.ErrCorrupt)
	}
	trailer, err := r.readPackRange(ctx, p, size-pack.TrailerSize, pack.TrailerSize)
	if err != nil {
		return nil, 0, err
	}
	off, length, err := pack.ParseTrailer(trailer, size)
	if err != nil {
		return nil, 0, err
	}
	footer, err := r.readPackRange(ctx, p, off, length)
	if err != nil {
		return nil, 0, err
	}
	entries, err := pack.OpenFooter(r.key, footer, off)
	return entries, off, err
}

func (r *Repository) readPackRange(ctx context.Context, p blob.ID, off, n int64) ([]byte, error) {
	rc, err := r.store.Get(ctx, storage.KindPack, p.String(), off, n)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, fmt.Errorf("%w: %v", pack.ErrCorrupt, err)
	}
	return buf, nil
}
