package plugin

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// Small files go through ReadSmall, several per call: a gRPC stream per
// file cost more than the file (about 150 µs against 60 µs for the whole
// ingest of a small file by the fs importer, on the 2-core test machine).
const (
	// smallMax is the largest file read that way.
	smallMax = 64 << 10
	// batchMax files at most per call.
	batchMax = 64
	// hintsMax bounds the sizes remembered from scans. The engine opens a
	// file soon after the scan yields it; a file it does not open
	// (unchanged since the last snapshot) leaves a hint behind, evicted
	// oldest first.
	hintsMax = 16384
)

// sizeHints remembers which scanned paths are small regular files, with
// their place in the scan: Open has only a path, and a file that turns
// out big costs a wasted read.
type sizeHints struct {
	mu    sync.Mutex
	small map[string]uint64
	ring  []string
	next  int
}

func (h *sizeHints) add(p string, seq uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.small == nil {
		h.small = map[string]uint64{}
		h.ring = make([]string, hintsMax)
	}
	if old := h.ring[h.next]; old != "" {
		delete(h.small, old)
	}
	h.ring[h.next] = p
	h.next = (h.next + 1) % hintsMax
	h.small[p] = seq
}

// take reports whether p was scanned as a small file, and forgets it.
func (h *sizeHints) take(p string) (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seq, ok := h.small[p]
	delete(h.small, p)
	return seq, ok
}

// batcher gathers the small-file reads asked while a ReadSmall call is
// out, and sends them as the next call: with the engine's several
// readers, each call carries several files.
type batcher struct {
	imp *Importer

	mu      sync.Mutex
	queue   []*smallReq
	running bool
	off     atomic.Bool // the plugin does not implement ReadSmall
}

type smallReq struct {
	path string
	done chan smallResult
}

type smallResult struct {
	data     []byte
	err      error
	fallback bool // too big, or ReadSmall not available: use Open
}

// read returns the content of the small file p, or fallback.
func (b *batcher) read(ctx context.Context, p string) smallResult {
	req := &smallReq{path: p, done: make(chan smallResult, 1)}
	b.mu.Lock()
	b.queue = append(b.queue, req)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	select {
	case r := <-req.done:
		return r
	case <-ctx.Done():
		return smallResult{err: &fs.PathError{Op: "open", Path: p, Err: ctx.Err()}}
	}
}

// run sends batches until the queue is empty.
func (b *batcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.queue), batchMax)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.queue[:n:n]
		b.queue = b.queue[n:]
		b.mu.Unlock()
		b.send(batch)
	}
}

func (b *batcher) send(batch []*smallReq) {
	req := &pluginpb.ReadSmallRequest{MaxSize: smallMax}
	for _, r := range batch {
		req.Paths = append(req.Paths, []byte(r.path))
	}
	ctx, cancel := context.WithTimeout(b.imp.ctx, b.imp.idle)
	resp, err := b.imp.proc.client.ReadSmall(ctx, req)
	cancel()
	if err == nil && len(resp.Files) != len(batch) {
		err = status.Errorf(codes.Internal, "ReadSmall answered %d files for %d paths", len(resp.Files), len(batch))
	}
	for i, r := range batch {
		switch {
		case status.Code(err) == codes.Unimplemented:
			b.off.Store(true)
			r.done <- smallResult{fallback: true}
		case err != nil:
			if ctx.Err() == context.DeadlineExceeded {
				err = errIdle
			}
			r.done <- smallResult{err: &fs.PathError{Op: "open", Path: r.path, Err: b.imp.callError(b.imp.ctx, "ReadSmall", err)}}
		case resp.Files[i].TooBig:
			r.done <- smallResult{fallback: true}
		case resp.Files[i].Error != "":
			f := resp.Files[i]
			e := &wire.PathError{Msg: f.Error}
			switch f.ErrorKind {
			case pluginpb.ErrorKind_ERROR_KIND_NOT_EXIST:
				e.Kind = fs.ErrNotExist
			case pluginpb.ErrorKind_ERROR_KIND_PERMISSION:
				e.Kind = fs.ErrPermission
			}
			r.done <- smallResult{err: &fs.PathError{Op: "open", Path: r.path, Err: e}}
		default:
			r.done <- smallResult{data: resp.Files[i].Data}
		}
	}
}

// openSmall tries the batched path for a file the scan said is small.
func (imp *Importer) openSmall(ctx context.Context, p string) (io.ReadCloser, bool, error) {
	r, ok := imp.prefetch.take(ctx, p)
	if !ok {
		seq, small := imp.hints.take(p)
		if imp.small.off.Load() || !small {
			return nil, false, nil
		}
		imp.prefetch.reached(seq)
		r = imp.small.read(ctx, p)
	}
	if r.fallback {
		return nil, false, nil
	}
	if r.err != nil {
		return nil, true, r.err
	}
	return io.NopCloser(bytes.NewReader(r.data)), true, nil
}
