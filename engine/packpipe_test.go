package engine

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// feedPipe writes a mix of small copied blobs and big owned ones, as the
// blob writer does, and returns what the reader must see and a count of
// owned buffers not yet released.
func feedPipe(t *testing.T, p *packPipe, r *rand.Rand) ([]byte, *atomic.Int64) {
	var want []byte
	var blobs [][]byte
	for i := range 40 {
		n := r.IntN(1 << 20)
		if i%3 == 0 {
			n = r.IntN(4 << 10)
		}
		b := bytes.Repeat([]byte{byte(i), byte(i * 7), 3}, n/3+1)[:n]
		want = append(want, b...)
		blobs = append(blobs, b)
	}
	outstanding := new(atomic.Int64)
	go func() {
		for _, b := range blobs {
			if len(b) >= ownedBlob {
				outstanding.Add(1)
				if err := p.WriteOwned(b, func() { outstanding.Add(-1); clear(b) }); err != nil {
					t.Error(err)
				}
				continue
			}
			if _, err := p.Write(b); err != nil {
				t.Error(err)
			}
		}
		p.CloseWithError(nil)
	}()
	return want, outstanding
}

func TestPackPipeReadAndWriteTo(t *testing.T) {
	for _, useWriteTo := range []bool{false, true} {
		p := newPackPipe()
		want, outstanding := feedPipe(t, p, rand.New(rand.NewPCG(1, 2)))
		var got bytes.Buffer
		var err error
		if useWriteTo {
			_, err = p.WriteTo(&got)
		} else {
			// Small reads cross segment boundaries.
			_, err = io.CopyBuffer(struct{ io.Writer }{&got}, struct{ io.Reader }{p}, make([]byte, 100_003))
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Fatalf("WriteTo=%v: %d bytes read, %d written, or they differ", useWriteTo, got.Len(), len(want))
		}
		if n := outstanding.Load(); n != 0 {
			t.Fatalf("WriteTo=%v: %d owned buffers never released", useWriteTo, n)
		}
	}
}

func TestPackPipeErrors(t *testing.T) {
	// The writer's error reaches the reader after the bytes before it.
	p := newPackPipe()
	boom := errors.New("boom")
	go func() {
		p.Write(make([]byte, 3<<20))
		p.CloseWithError(boom)
	}()
	n, err := p.WriteTo(io.Discard)
	if !errors.Is(err, boom) || n < 3<<20-packPipeBuf {
		t.Fatalf("reader got %d bytes, %v; want the bytes sent and boom", n, err)
	}
	p.CloseWithError(errors.New("again")) // a second close is harmless

	// A reader that ends unblocks a waiting writer with its error, and
	// an owned buffer the pipe could not take is released at once.
	p = newPackPipe()
	end := errors.New("upload ended")
	done := make(chan error, 1)
	go func() {
		_, err := p.Write(make([]byte, 10<<20)) // more than the queue holds
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	p.closeRead(end)
	select {
	case err := <-done:
		if !errors.Is(err, end) {
			t.Fatalf("blocked write: %v, want %v", err, end)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write still blocked after the reader ended")
	}
	released := false
	if err := p.WriteOwned(make([]byte, 1<<20), func() { released = true }); !errors.Is(err, end) || !released {
		t.Fatalf("WriteOwned after the reader ended: %v, released %v", err, released)
	}
}
