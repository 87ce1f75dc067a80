package plugin

import (
	"context"
	"io/fs"
	"sync"
)

// The engine reads a handful of files at once, so with a round trip to
// the plugin per file, small files are bound by latency, not by work.
// The prefetcher reads the small files the scan announced a little ahead
// of where the engine is reading, in ReadSmall batches, and hands them to
// Open. It follows the engine, not the scan: a file the engine skips (the
// same as in the previous snapshot) is read only if it is in the window
// ahead, so an unchanged tree costs at most a window of wasted reads per
// stretch of skipped files.
const (
	// prefetchWindow files at most are requested and not yet opened.
	prefetchWindow = 256
	// prefetchQueue bounds the announced files not yet requested; past it
	// files are read on demand.
	prefetchQueue = 1 << 16
	// prefetchLag: a prefetched file this far behind the engine's
	// position was skipped and is dropped (readers finish out of order).
	prefetchLag = 64
	// prefetchCalls in flight at most.
	prefetchCalls = 2
)

type prefetcher struct {
	imp *Importer

	mu       sync.Mutex
	off      bool
	seq      uint64      // announced so far
	pos      uint64      // the furthest file the engine opened
	queue    []announced // announced, not requested, scan order
	entries  map[string]*fetched
	fifo     []*fetched // requested, scan order
	inflight int
}

type announced struct {
	path string
	seq  uint64
}

type fetched struct {
	announced
	done  chan struct{}
	res   smallResult
	taken bool
}

// announce is called by Scan for each small regular file; it returns the
// file's sequence number.
func (pf *prefetcher) announce(p string) uint64 {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.seq++
	if !pf.off && len(pf.queue) < prefetchQueue {
		pf.queue = append(pf.queue, announced{p, pf.seq})
		pf.pump()
	}
	return pf.seq
}

// reached records that the engine opened the file of sequence seq.
func (pf *prefetcher) reached(seq uint64) {
	pf.mu.Lock()
	defer pf.mu.Unlock()
	if seq > pf.pos {
		pf.pos = seq
	}
	pf.pump()
}

// take returns the prefetched content of p, waiting if it is on its way.
func (pf *prefetcher) take(ctx context.Context, p string) (smallResult, bool) {
	pf.mu.Lock()
	e := pf.entries[p]
	if e == nil {
		pf.mu.Unlock()
		return smallResult{}, false
	}
	delete(pf.entries, p)
	e.taken = true
	if e.seq > pf.pos {
		pf.pos = e.seq
	}
	pf.pump()
	pf.mu.Unlock()
	// The hint is used up too: a second Open of p goes the usual way.
	pf.imp.hints.take(p)
	select {
	case <-e.done:
		return e.res, true
	case <-ctx.Done():
		return smallResult{err: &fs.PathError{Op: "open", Path: p, Err: ctx.Err()}}, true
	}
}

// pump drops what the engine went past and starts calls while the window
// has room. Called with mu held.
func (pf *prefetcher) pump() {
	for len(pf.fifo) > 0 {
		e := pf.fifo[0]
		if !e.taken && e.seq+prefetchLag > pf.pos {
			break
		}
		if !e.taken {
			select {
			case <-e.done: // skipped by the engine: forget it
				if pf.entries[e.path] == e {
					delete(pf.entries, e.path)
				}
			default:
				return // still in flight: its call will pump again
			}
		}
		pf.fifo = pf.fifo[1:]
	}
	for len(pf.queue) > 0 && pf.queue[0].seq <= pf.pos {
		pf.queue = pf.queue[1:]
	}
	if pf.entries == nil {
		pf.entries = map[string]*fetched{}
	}
	for !pf.off && pf.inflight < prefetchCalls && len(pf.queue) > 0 && len(pf.fifo) < prefetchWindow {
		n := min(len(pf.queue), batchMax, prefetchWindow-len(pf.fifo))
		batch := make([]*fetched, n)
		for i, a := range pf.queue[:n] {
			e := &fetched{announced: a, done: make(chan struct{})}
			batch[i] = e
			pf.entries[a.path] = e
			pf.fifo = append(pf.fifo, e)
		}
		pf.queue = pf.queue[n:]
		pf.inflight++
		go pf.fetch(batch)
	}
}

func (pf *prefetcher) fetch(batch []*fetched) {
	reqs := make([]*smallReq, len(batch))
	for i, e := range batch {
		reqs[i] = &smallReq{path: e.path, done: make(chan smallResult, 1)}
	}
	pf.imp.small.send(reqs)
	for i, e := range batch {
		e.res = <-reqs[i].done
		close(e.done)
	}
	pf.mu.Lock()
	defer pf.mu.Unlock()
	pf.inflight--
	if pf.imp.small.off.Load() {
		pf.off = true
		pf.queue = nil
	}
	pf.pump()
}
