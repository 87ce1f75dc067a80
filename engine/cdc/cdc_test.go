package cdc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	chunkers "github.com/PlakarKorp/go-cdc-chunkers"
	_ "github.com/PlakarKorp/go-cdc-chunkers/chunkers/fastcdc"
)

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// libraryCuts are the chunk lengths the library gives.
func libraryCuts(t testing.TB, p Params, key, data []byte) []int {
	t.Helper()
	ch, err := chunkers.NewChunker(Algorithm, bytes.NewReader(data), &chunkers.ChunkerOpts{MinSize: p.Min, NormalSize: p.Avg, MaxSize: p.Max, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var cuts []int
	for {
		c, err := ch.Next()
		if len(c) > 0 {
			cuts = append(cuts, len(c))
		}
		if errors.Is(err, io.EOF) {
			return cuts
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func ourCuts(t testing.TB, c *Chunker, r io.Reader, data []byte) []int {
	t.Helper()
	c.Reset(r)
	var cuts []int
	off := 0
	for {
		chunk, err := c.Next()
		if errors.Is(err, io.EOF) {
			if off != len(data) {
				t.Fatalf("chunks cover %d of %d bytes", off, len(data))
			}
			return cuts
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(chunk) == 0 {
			t.Fatal("empty chunk before the end")
		}
		if !bytes.Equal(chunk, data[off:off+len(chunk)]) {
			t.Fatalf("chunk at %d does not hold the stream's bytes", off)
		}
		off += len(chunk)
		cuts = append(cuts, len(chunk))
	}
}

// TestSameCutsAsLibrary: every stream is cut exactly where the library
// cuts it (the repository format depends on it), whatever the sizes, the
// key, the data and how the reader splits its reads.
func TestSameCutsAsLibrary(t *testing.T) {
	params := []Params{
		{128 << 10, 512 << 10, 2 << 20}, // the repository default
		{2 << 10, 8 << 10, 64 << 10},    // the library's fixed masks
		{4 << 10, 16 << 10, 128 << 10},
		{64, 256, 1024},
	}
	zeros := make([]byte, 5<<20)
	text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog 0123456789\n"), 100000)
	for pi, p := range params {
		for ki, key := range [][]byte{bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32)} {
			c, err := New(p, key)
			if err != nil {
				t.Fatal(err)
			}
			sizes := []int{0, 1, p.Min - 1, p.Min, p.Min + 1, p.Avg, p.Max - 1, p.Max, p.Max + 1, 3*p.Max + 17, 40 << 20}
			for si, n := range sizes {
				data := randBytes(uint64(100*pi+10*ki+si), n)
				want := libraryCuts(t, p, key, data)
				for ri, wrap := range []func(io.Reader) io.Reader{
					func(r io.Reader) io.Reader { return r },
					iotest.HalfReader,
					iotest.DataErrReader,
				} {
					if n > 1<<20 && ri > 0 && p.Max < 1<<20 {
						continue // byte-sized reads of big streams add nothing but time
					}
					got := ourCuts(t, c, wrap(bytes.NewReader(data)), data)
					if fmt.Sprint(got) != fmt.Sprint(want) {
						t.Fatalf("params %+v key %d size %d reader %d: %d chunks %v..., library %d chunks %v...", p, ki, n, ri, len(got), head(got), len(want), head(want))
					}
				}
			}
			for name, data := range map[string][]byte{"zeros": zeros, "text": text} {
				want := libraryCuts(t, p, key, data)
				if got := ourCuts(t, c, bytes.NewReader(data), data); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("params %+v %s: %v..., library %v...", p, name, head(got), head(want))
				}
			}
		}
	}
}

func head(s []int) []int { return s[:min(len(s), 8)] }

// TestReadError: a failing reader fails Next instead of cutting the
// partial data as if the stream ended there.
func TestReadError(t *testing.T) {
	p := Params{128 << 10, 512 << 10, 2 << 20}
	c, err := New(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	data := randBytes(1, 3<<20)
	c.Reset(io.MultiReader(bytes.NewReader(data), iotest.ErrReader(boom)))
	total := 0
	for {
		chunk, err := c.Next()
		if errors.Is(err, boom) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v, want %v", err, boom)
		}
		total += len(chunk)
	}
	if total >= len(data) {
		t.Fatalf("%d bytes cut before the error, of %d read", total, len(data))
	}
}

func BenchmarkChunker(b *testing.B) {
	p := Params{128 << 10, 512 << 10, 2 << 20}
	data := randBytes(1, 64<<20)
	key := bytes.Repeat([]byte{7}, 32)
	b.Run("ours", func(b *testing.B) {
		c, _ := New(p, key)
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			c.Reset(bytes.NewReader(data))
			for {
				if _, err := c.Next(); err != nil {
					break
				}
			}
		}
	})
	b.Run("library", func(b *testing.B) {
		ch, _ := chunkers.NewChunker(Algorithm, bytes.NewReader(data), &chunkers.ChunkerOpts{MinSize: p.Min, NormalSize: p.Avg, MaxSize: p.Max, Key: key})
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			ch.Reset(bytes.NewReader(data))
			for {
				if _, err := ch.Next(); err != nil {
					break
				}
			}
		}
	})
}

// TestKeptChunks: chunks kept with Keep stay intact while the chunker
// reads on, across Reset to another stream, whatever order they are
// released in; the cuts are those of chunks that are not kept, and
// released slabs are reused.
func TestKeptChunks(t *testing.T) {
	p := Params{Min: 2 << 10, Avg: 8 << 10, Max: 64 << 10}
	key := bytes.Repeat([]byte{5}, 32)
	c, err := New(p, key)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(p, key)
	if err != nil {
		t.Fatal(err)
	}
	type kept struct {
		data, want []byte
		release    func()
	}
	var held []kept
	check := func() {
		t.Helper()
		for i, k := range held {
			if !bytes.Equal(k.data, k.want) {
				t.Fatalf("kept chunk %d was overwritten", i)
			}
		}
	}
	slabs := map[*slab]bool{}
	var last *slab
	taken := 0 // slabs the chunker took, new or reused
	for stream := range 4 {
		data := randBytes(uint64(40+stream), 1<<20+stream*777)
		want := ourCuts(t, plain, bytes.NewReader(data), data)
		c.Reset(iotest.HalfReader(bytes.NewReader(data)))
		var cuts []int
		off := 0
		for i := 0; ; i++ {
			chunk, err := c.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			slabs[c.cur] = true
			if c.cur != last {
				last = c.cur
				taken++
			}
			cuts = append(cuts, len(chunk))
			held = append(held, kept{chunk, data[off : off+len(chunk)], c.Keep()})
			off += len(chunk)
			check()
			// Release in another order than kept: every other chunk at
			// once, the rest in batches, some only after the next Reset.
			if i%2 == 1 {
				k := held[len(held)-2]
				k.release()
				held = append(held[:len(held)-2], held[len(held)-1])
			}
			if len(held) > 12 {
				for _, k := range held[:6] {
					k.release()
				}
				held = held[6:]
			}
		}
		if fmt.Sprint(cuts) != fmt.Sprint(want) {
			t.Fatalf("stream %d: kept cuts %v..., plain %v...", stream, head(cuts), head(want))
		}
		check()
	}
	for _, k := range held {
		k.release()
	}
	// Released slabs are taken again (sync.Pool keeps most of them; the
	// race detector makes it drop a quarter).
	if len(slabs) > taken*3/4 {
		t.Errorf("%d different slabs taken %d times: released slabs are not reused", len(slabs), taken)
	}
}
