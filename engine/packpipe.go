package engine

import (
	"errors"
	"io"
	"sync"
)

// packPipe carries a pack from the sealers to the store's Put. The writer
// side gathers small blobs into 1 MiB buffers (a hand-over per small blob
// would cost more than the copy) and hands big ones over as they are;
// both queue for the reader, so sealing goes on while the store writes. A
// store that takes an io.WriterTo (the folder store) writes the buffers
// themselves: an io.Pipe behind a bufio.Writer copied every byte of a pack
// twice more.
type packPipe struct {
	full chan segment // ready for the reader, closed by the writer

	cur []byte // writer's buffer being filled

	mu      sync.Mutex
	werr    error // set by CloseWithError: what the reader then sees
	wclosed bool
	rerr    error // set by the reader's end: what further writes see
	readEnd chan struct{}
	pending segment // reader's segment being read (Read only)
	off     int     // how much of pending was read
}

// segment is a run of pack bytes and what to do once they are written.
type segment struct {
	b       []byte
	release func() // nil for the pipe's own gathering buffers
}

// packPipeBuf is the size of a pack pipe's buffers, and packPipeDepth how
// many full ones may wait for the store.
const (
	packPipeBuf   = 1 << 20
	packPipeDepth = 1
)

var packPipeBufs = sync.Pool{New: func() any { b := make([]byte, 0, packPipeBuf); return &b }}

func newPackPipe() *packPipe {
	return &packPipe{
		full:    make(chan segment, packPipeDepth),
		readEnd: make(chan struct{}),
	}
}

func (p *packPipe) getBuf() []byte {
	return (*packPipeBufs.Get().(*[]byte))[:0]
}

// done releases a segment the reader has written out.
func (p *packPipe) done(s segment) {
	if s.release != nil {
		s.release()
		return
	}
	b := s.b[:0]
	packPipeBufs.Put(&b)
}

// Write copies b into the pipe. It blocks while the reader is
// packPipeDepth buffers behind, and fails once the reader has ended.
func (p *packPipe) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if p.cur == nil {
			p.cur = p.getBuf()
		}
		c := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+c]
		b, n = b[c:], n+c
		if len(p.cur) == cap(p.cur) {
			if err := p.send(segment{b: p.cur}); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// WriteOwned hands b over without copying it: release is called once the
// reader is done with it, or now if the pipe fails; the caller must not
// touch b until then.
func (p *packPipe) WriteOwned(b []byte, release func()) error {
	if len(p.cur) > 0 {
		if err := p.send(segment{b: p.cur}); err != nil {
			release()
			return err
		}
	}
	if err := p.send(segment{b: b, release: release}); err != nil {
		release()
		return err
	}
	return nil
}

func (p *packPipe) send(s segment) error {
	if s.release == nil {
		p.cur = nil
	}
	select {
	case p.full <- s:
		return nil
	case <-p.readEnd:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.rerr
	}
}

// CloseWithError ends the writer side: after the buffered bytes the reader
// sees err, or io.EOF when err is nil. Only the writer calls it; calls
// after the first do nothing, as with io.Pipe.
func (p *packPipe) CloseWithError(err error) error {
	p.mu.Lock()
	closed := p.wclosed
	p.wclosed = true
	p.mu.Unlock()
	if closed {
		return nil
	}
	var serr error
	if err == nil && len(p.cur) > 0 {
		serr = p.send(segment{b: p.cur})
	}
	p.mu.Lock()
	p.werr = err
	p.mu.Unlock()
	close(p.full)
	return serr
}

// closeRead ends the reader side (the store's Put returned): a blocked or
// later Write fails with err.
func (p *packPipe) closeRead(err error) {
	if err == nil {
		err = errors.New("pack pipe: reader ended")
	}
	p.mu.Lock()
	if p.rerr == nil {
		p.rerr = err
		close(p.readEnd)
	}
	p.mu.Unlock()
}

func (p *packPipe) endErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.werr != nil {
		return p.werr
	}
	return io.EOF
}

// Read is for stores that copy out of a reader (S3 fills its own buffer).
func (p *packPipe) Read(b []byte) (int, error) {
	for p.off == len(p.pending.b) {
		if p.pending.b != nil {
			p.done(p.pending)
			p.pending = segment{}
		}
		next, ok := <-p.full
		if !ok {
			return 0, p.endErr()
		}
		p.pending, p.off = next, 0
	}
	n := copy(b, p.pending.b[p.off:])
	p.off += n
	return n, nil
}

// WriteTo writes each buffer to w as it arrives.
func (p *packPipe) WriteTo(w io.Writer) (int64, error) {
	var total int64
	if p.off < len(p.pending.b) {
		n, err := w.Write(p.pending.b[p.off:])
		total += int64(n)
		p.off += n
		if err != nil {
			return total, err
		}
	}
	for s := range p.full {
		n, err := w.Write(s.b)
		total += int64(n)
		p.done(s)
		if err != nil {
			return total, err
		}
	}
	if err := p.endErr(); err != io.EOF {
		return total, err
	}
	return total, nil
}
