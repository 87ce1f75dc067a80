package dav

import (
	"context"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"sync"
)

// A snapshot file is read one chunk at a time, and each chunk costs a
// storage read, a decryption and a MAC check: one sequential reader keeps
// one core busy at best. A long sequential GET reads ahead instead, a few
// windows at once, each through its own handle, so that the cores decrypt in
// parallel while the client receives the window before.
const (
	raWindow    = 8 << 20  // bytes per window
	raDepth     = 2        // windows loading ahead of the one being sent
	raThreshold = 1 << 20  // sequential bytes read before reading ahead
	raMinLeft   = 16 << 20 // no read-ahead for what is left below this
	raBudget    = 16       // windows in memory across all requests
)

// raSlots bounds the memory of all read-aheads: a request reserves what it
// needs up front or reads without (a slow client must not make another
// request wait).
var (
	raSlots = make(chan struct{}, raBudget)
	raPool  = sync.Pool{New: func() any { b := make([]byte, raWindow); return &b }}
)

// window is one range of the file, loaded by its own goroutine.
type window struct {
	off  int64
	buf  *[]byte
	n    int
	err  error
	done chan struct{}
}

// readahead delivers [off, end) of a file in order, loading the windows
// concurrently.
type readahead struct {
	queue  chan *window
	cur    *window
	pos    int
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// newReadahead returns nil when the memory budget is spent.
func newReadahead(ctx context.Context, fsys fs.FS, name string, off, end int64) *readahead {
	for i := range raDepth + 1 { // the queued windows and the one being sent
		select {
		case raSlots <- struct{}{}:
		default:
			for range i {
				<-raSlots
			}
			return nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	ra := &readahead{queue: make(chan *window, raDepth), cancel: cancel}
	ra.wg.Add(1)
	go func() {
		defer ra.wg.Done()
		defer close(ra.queue)
		for o := off; o < end; o += raWindow {
			w := &window{off: o, done: make(chan struct{})}
			select {
			case ra.queue <- w:
			case <-ctx.Done():
				return
			}
			ra.wg.Add(1)
			go func() {
				defer ra.wg.Done()
				defer close(w.done)
				w.load(fsys, name, min(raWindow, end-o))
			}()
		}
	}()
	return ra
}

func (w *window) load(fsys fs.FS, name string, n int64) {
	w.buf = raPool.Get().(*[]byte)
	f, err := fsys.Open(name)
	if err != nil {
		w.err = err
		return
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		w.err = &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
		return
	}
	w.n, w.err = ra.ReadAt((*w.buf)[:n], w.off)
	if w.err == io.EOF && int64(w.n) == n {
		w.err = nil
	}
}

func (w *window) release() {
	<-w.done
	if w.buf != nil {
		raPool.Put(w.buf)
		w.buf = nil
	}
}

func (ra *readahead) Read(p []byte) (int, error) {
	for ra.cur == nil || ra.pos == ra.cur.n {
		if ra.cur != nil {
			if err := ra.cur.err; err != nil {
				return 0, err
			}
			ra.cur.release()
			ra.cur = nil
		}
		w, ok := <-ra.queue
		if !ok {
			return 0, io.EOF
		}
		<-w.done
		ra.cur, ra.pos = w, 0
	}
	n := copy(p, (*ra.cur.buf)[ra.pos:ra.cur.n])
	ra.pos += n
	return n, nil
}

// close stops the loads and waits for them: nothing outlives the request.
func (ra *readahead) close() {
	ra.cancel()
	ra.wg.Wait()
	if ra.cur != nil {
		ra.cur.release()
	}
	for w := range ra.queue {
		w.release()
	}
	for range raDepth + 1 {
		<-raSlots
	}
}

// rangeEnd is where a single-range request ends (exclusive), or size:
// read-ahead need not go past what was asked.
func rangeEnd(h string, size int64) int64 {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return size
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok || first == "" || last == "" {
		return size
	}
	e, err := strconv.ParseInt(last, 10, 64)
	if err != nil || e < 0 || e+1 > size {
		return size
	}
	return e + 1
}
