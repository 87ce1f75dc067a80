package s3api

import (
	"context"
	"io"
	"io/fs"
	"sync"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Reading a snapshot file costs CPU (decryption, MAC, decompression) one
// chunk after the other, so a single download is bounded by one core.
// Large ranges are therefore cut into stripes decoded ahead by helper
// goroutines, each on its own handle, while the request writes the stripe
// before. Helpers hold a stripe buffer each, taken from a budget shared by
// all requests: memory stays bounded however many clients download, and
// when the budget is spent a request streams through its bounded copy
// buffer alone, as many parallel downloads use the cores anyway.
const (
	stripeBudget  = 4 // stripes decoded ahead, all requests together
	stripesPerReq = 2 // at most this many ahead for one request
)

var (
	stripeSize   int64 = 8 << 20 // a variable so that tests use small stripes
	stripeTokens       = make(chan struct{}, stripeBudget)
	stripePool         = sync.Pool{New: func() any { b := make([]byte, stripeSize); return &b }}
)

type stripe struct {
	off, n int64
	buf    *[]byte
	done   chan struct{}
	err    error
}

// copyRange writes [start, start+length) of the file to w. open opens
// another handle on the same file for a helper. Errors from w are wrapped
// in clientGone.
func copyRange(ctx context.Context, w io.Writer, f vfs.File, open func() (fs.File, error), start, length int64, buf []byte) error {
	end := start + length
	next := start
	var pending []*stripe
	defer func() {
		for _, s := range pending {
			<-s.done
			s.release()
		}
	}()
	launch := func() bool {
		if end-next < stripeSize || len(pending) >= stripesPerReq {
			return false
		}
		select {
		case stripeTokens <- struct{}{}:
		default:
			return false
		}
		s := &stripe{off: next, n: min(stripeSize, end-next), done: make(chan struct{})}
		s.buf = stripePool.Get().(*[]byte)
		next += s.n
		pending = append(pending, s)
		go s.fill(ctx, open)
		return true
	}
	for next < end || len(pending) > 0 {
		for launch() {
		}
		if len(pending) == 0 {
			// No helper: stream the next stretch here, a buffer at a time.
			n := min(stripeSize, end-next)
			if _, err := io.CopyBuffer(writerOnly{w}, io.NewSectionReader(f, next, n), buf); err != nil {
				return err
			}
			next += n
			continue
		}
		s := pending[0]
		<-s.done
		pending = pending[1:]
		err := s.err
		if err == nil {
			_, err = writerOnly{w}.Write((*s.buf)[:s.n])
		}
		s.release()
		if err != nil {
			return err
		}
	}
	return nil
}

// fill decodes the stripe on a handle of its own, so that the engine's
// per-handle chunk cache and prefetch serve this sequential stretch.
func (s *stripe) fill(ctx context.Context, open func() (fs.File, error)) {
	defer close(s.done)
	file, err := open()
	if err != nil {
		s.err = err
		return
	}
	defer file.Close()
	ra, ok := file.(io.ReaderAt)
	if !ok {
		s.err = fs.ErrInvalid
		return
	}
	n, err := ra.ReadAt((*s.buf)[:s.n], s.off)
	if err == io.EOF && int64(n) == s.n {
		err = nil
	}
	if err == nil {
		err = ctx.Err()
	}
	s.err = err
}

func (s *stripe) release() {
	stripePool.Put(s.buf)
	<-stripeTokens
}
