package engine

import (
	"os"
	"sync"
	"sync/atomic"
)

// runBuf holds one coalesced read of a sequential reader: the sealed
// blobs, then, decrypted in place, their plaintext. Reading a file used
// to make a chunk of garbage per chunk read, so a server streaming at
// 1 GB/s ran the collector dozens of times a second; recycled buffers make
// a streaming read allocate almost nothing.
//
// refs counts the holders of a chunk in it (a reader's window or cached
// slot, a ReadAt copying from it); the last release returns the memory to
// the pool. Buffers of a sequential reader never enter the shared chunk
// cache, so every holder is known to the reader that loaded them.
type runBuf struct {
	b    []byte
	refs atomic.Int32
}

var runBufs sync.Pool // of *[]byte

// poisonReleased fills a released buffer with a pattern, so that a chunk
// used after its release shows up as wrong bytes in the content checks of
// the tests (scripts/test.sh sets it).
var poisonReleased = os.Getenv("PLAKAR_GW_TEST_POISON_BUFFERS") != ""

func newRunBuf(n int) *runBuf {
	if p, ok := runBufs.Get().(*[]byte); ok && cap(*p) >= n {
		return &runBuf{b: (*p)[:n]}
	}
	return &runBuf{b: make([]byte, n)}
}

// hold gives a freshly loaded buffer its n references, one per chunk
// handed out; with none, it goes straight back to the pool.
func (b *runBuf) hold(n int) {
	b.refs.Store(int32(max(n, 1)))
	if n == 0 {
		b.release()
	}
}

func (b *runBuf) acquire() {
	if b != nil {
		b.refs.Add(1)
	}
}

func (b *runBuf) release() {
	if b == nil {
		return
	}
	switch n := b.refs.Add(-1); {
	case n == 0:
		buf := b.b[:cap(b.b)]
		if poisonReleased {
			for i := range buf {
				buf[i] = 0xdb
			}
		}
		b.b = nil
		runBufs.Put(&buf)
	case n < 0:
		panic("engine: chunk buffer released more often than held")
	}
}
