// Package cdc owns content-defined chunking: it cuts a stream into chunks
// at the same points as go-cdc-chunkers' "fastcdc-v1.0.0" (the algorithm
// named in every repository's config, so that new chunks dedup against old
// ones), faster. The library's cut loop re-checks the normal-size boundary,
// reloads its table and bounds-checks every byte, and its reader copies
// every chunk once more; on one big file the chunker is the stage that
// does not run in parallel, so its speed is the ingest's speed.
package cdc

import (
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"sync/atomic"

	"github.com/PlakarKorp/go-cdc-chunkers"
	"github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
)

// Algorithm is the only algorithm this package implements.
const Algorithm = "fastcdc-v1.0.0"

// Params are the chunk size bounds, in bytes.
type Params struct{ Min, Avg, Max int }

// Chunker cuts one stream at a time into chunks.
type Chunker struct {
	g            *[256]uint64
	maskS, maskL uint64
	p            Params

	r          io.Reader
	cur        *slab // the buffer being cut, nil between streams
	start, end int   // unconsumed bytes are cur.buf[start:end]
	eof        bool
	err        error
}

// slab is a chunker's buffer. A chunk kept past the next call of Next
// (Keep) holds a reference to its slab; the chunker then reads on into a
// fresh slab rather than over those bytes, and the slab goes back to a
// pool shared by all chunkers when the last reference goes. So chunks
// reach the sealers without being copied out of the buffer they were read
// into. A chunker holds no slab between streams: an ingest's readers are
// mostly on small files, which need none.
type slab struct {
	buf  []byte
	refs atomic.Int32 // the chunker's own, plus one per kept chunk
	pool *sync.Pool
}

func (s *slab) release() {
	if s.refs.Add(-1) == 0 {
		s.pool.Put(s)
	}
}

// slabPools holds a *sync.Pool of slabs per slab size.
var slabPools sync.Map

// New returns a chunker for p, keyed by key (the repository's chunker key).
func New(p Params, key []byte) (*Chunker, error) {
	if p.Min < 64 || p.Min >= p.Avg || p.Avg >= p.Max {
		return nil, fmt.Errorf("cdc: bad sizes %+v", p)
	}
	// The library derives the keyed gear table; Setup of a bare FastCDC
	// fills in exactly that table (its masks are computed below).
	var f fastcdc.FastCDC
	if err := f.Setup(&chunkers.ChunkerOpts{MinSize: p.Min, NormalSize: p.Avg, MaxSize: p.Max, Key: key}); err != nil {
		return nil, err
	}
	c := &Chunker{g: f.G, p: p}
	if p.Min == 2<<10 && p.Max == 64<<10 && p.Avg == 8<<10 {
		c.maskS, c.maskL = 0x0003590703530000, 0x0000d90003530000
	} else {
		c.maskS, c.maskL = masks(p.Avg, 2)
	}
	return c, nil
}

// newSlab returns a slab of two maximal chunks, as the library's buffer.
func (c *Chunker) newSlab() *slab {
	size := 2 * c.p.Max
	p, ok := slabPools.Load(size)
	if !ok {
		p, _ = slabPools.LoadOrStore(size, &sync.Pool{})
	}
	pool := p.(*sync.Pool)
	s, _ := pool.Get().(*slab)
	if s == nil {
		s = &slab{buf: make([]byte, size), pool: pool}
	}
	s.refs.Store(1)
	return s
}

// setSlab makes s (nil: none) the chunker's buffer, dropping its hold on
// the previous one.
func (c *Chunker) setSlab(s *slab) {
	if c.cur != nil {
		c.cur.release()
	}
	c.cur = s
}

// Keep makes the chunk Next returned last outlive later calls of Next and
// Reset: its bytes stay as they are until release is called, once.
func (c *Chunker) Keep() (release func()) {
	c.cur.refs.Add(1)
	return c.cur.release
}

// masks are the library's normalized-chunking masks: level bits more than
// log2(avg) before the average size, level fewer after it, spread evenly.
func masks(avg, level int) (small, large uint64) {
	bits := uint64(math.Log2(float64(avg)))
	return spacedMask(int(bits+uint64(level)), 64), spacedMask(int(bits-uint64(level)), 64)
}

func spacedMask(ones, total int) uint64 {
	if ones >= total {
		return math.MaxUint64
	}
	if ones <= 0 {
		return 0
	}
	step := total / ones
	var m uint64
	for i := 0; i < ones; i++ {
		if pos := total - 1 - i*step; pos >= 0 {
			m |= 1 << pos
		}
	}
	return m
}

// Reset starts cutting r.
func (c *Chunker) Reset(r io.Reader) {
	if c.cur != nil && c.cur.refs.Load() != 1 {
		c.setSlab(nil) // kept chunks still point into this one
	}
	c.r, c.start, c.end, c.eof, c.err = r, 0, 0, false, nil
}

// Next returns the next chunk, valid until the following call, or io.EOF
// after the last one.
func (c *Chunker) Next() ([]byte, error) {
	if c.end-c.start < c.p.Max && !c.eof {
		c.fill()
	}
	n := c.end - c.start
	if n == 0 {
		c.setSlab(nil)
		if c.err != nil {
			return nil, c.err
		}
		return nil, io.EOF
	}
	data := c.cur.buf[c.start:c.end]
	if n < c.p.Max && c.err != nil {
		// A read failed before a whole maximal chunk arrived: the cut
		// could differ from the one the full stream gives.
		return nil, c.err
	}
	cut := c.cut(data)
	c.start += cut
	return data[:cut:cut], nil
}

// fill moves the unconsumed bytes to the front, or to a fresh slab when
// kept chunks still point into this one, and reads until the buffer is
// full or the stream ends.
func (c *Chunker) fill() {
	if c.cur == nil {
		c.setSlab(c.newSlab())
	}
	if c.start > 0 {
		if c.cur.refs.Load() == 1 {
			c.end = copy(c.cur.buf, c.cur.buf[c.start:c.end])
		} else {
			next := c.newSlab()
			c.end = copy(next.buf, c.cur.buf[c.start:c.end])
			c.setSlab(next)
		}
		c.start = 0
	}
	for c.end < len(c.cur.buf) {
		n, err := c.r.Read(c.cur.buf[c.end:])
		c.end += n
		if errors.Is(err, io.EOF) {
			c.eof = true
			return
		}
		if err != nil {
			c.eof, c.err = true, err
			return
		}
		if n == 0 {
			c.eof, c.err = true, io.ErrNoProgress
			return
		}
	}
}

// cut returns the length of the chunk at the start of data: the first
// position past Min where the gear hash matches the mask (the stricter
// one before Avg), or Max, or all of data when less is left.
func (c *Chunker) cut(data []byte) int {
	n := len(data)
	if n <= c.p.Min {
		return n
	}
	if n > c.p.Max {
		n = c.p.Max
	}
	data = data[:n]
	normal := min(c.p.Avg, n)
	fp, i := scan(c.g, data[:normal], c.p.Min, 0, c.maskS)
	if i < normal {
		return i
	}
	_, i = scan(c.g, data, normal, fp, c.maskL)
	return i
}

// scan runs the gear hash over d from i on and returns the first position
// where it matches mask, or len(d), with the hash there. Four bytes a
// round: the table loads do not depend on the hash, so they overlap, and
// the loop's own work is paid once per four bytes.
func scan(g *[256]uint64, d []byte, i int, fp, mask uint64) (uint64, int) {
	for ; i+4 <= len(d); i += 4 {
		q := d[i : i+4 : i+4]
		x0, x1, x2, x3 := g[q[0]], g[q[1]], g[q[2]], g[q[3]]
		// Each hash is computed from the round's first one, so the
		// chain from round to round is one shift and one add.
		f1 := fp<<1 + x0
		f2 := fp<<2 + (x0<<1 + x1)
		f3 := fp<<3 + (x0<<2 + x1<<1 + x2)
		f4 := fp<<4 + (x0<<3 + x1<<2 + x2<<1 + x3)
		switch {
		case f1&mask == 0:
			return f1, i
		case f2&mask == 0:
			return f2, i + 1
		case f3&mask == 0:
			return f3, i + 2
		case f4&mask == 0:
			return f4, i + 3
		}
		fp = f4
	}
	for ; i < len(d); i++ {
		fp = fp<<1 + g[d[i]]
		if fp&mask == 0 {
			return fp, i
		}
	}
	return fp, len(d)
}
