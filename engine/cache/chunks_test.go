package cache

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
)

func chunkID(b byte) blob.ID {
	var id blob.ID
	id[0], id[31] = b, b
	return id
}

func TestChunksLRUBySize(t *testing.T) {
	dir := t.TempDir()
	c, err := OpenChunks(dir, 300)
	if err != nil {
		t.Fatal(err)
	}
	data := func(b byte) []byte { return bytes.Repeat([]byte{b}, 100) }
	for _, b := range []byte{1, 2, 3} {
		c.Put(chunkID(b), data(b))
	}
	if got, ok := c.Get(chunkID(1), nil); !ok || !bytes.Equal(got, data(1)) {
		t.Fatalf("get 1: %v %q", ok, got)
	}
	c.Put(chunkID(4), data(4)) // over the limit: 2 is the least recently used
	for b, want := range map[byte]bool{1: true, 2: false, 3: true, 4: true} {
		got, ok := c.Get(chunkID(b), make([]byte, 0, 100))
		if ok != want || ok && !bytes.Equal(got, data(b)) {
			t.Errorf("chunk %d: cached %v, want %v", b, ok, want)
		}
		if _, err := os.Stat(c.path(chunkID(b))); (err == nil) != want {
			t.Errorf("chunk %d: file present %v, want %v", b, err == nil, want)
		}
	}
	if c.Size() != 300 {
		t.Errorf("size %d, want 300", c.Size())
	}
	c.Put(chunkID(9), make([]byte, 301)) // larger than the whole cache
	if _, ok := c.Get(chunkID(9), nil); ok || c.Size() != 300 {
		t.Errorf("a chunk over the limit was cached (size %d)", c.Size())
	}
	// A file gone behind the cache's back (another process evicted it) is
	// a miss, and forgotten.
	os.Remove(c.path(chunkID(3)))
	if _, ok := c.Get(chunkID(3), nil); ok || c.Size() != 200 {
		t.Errorf("removed file: found, or size %d not 200", c.Size())
	}

	// Reopened with a smaller limit: the oldest files go first.
	old := time.Now().Add(-time.Hour)
	os.Chtimes(c.path(chunkID(1)), old, old)
	c2, err := OpenChunks(dir, 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c2.Get(chunkID(1), nil); ok {
		t.Error("the oldest chunk survived a reopen under a smaller limit")
	}
	if got, ok := c2.Get(chunkID(4), nil); !ok || !bytes.Equal(got, data(4)) {
		t.Error("the newest chunk is lost after a reopen")
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(left) != 1 {
		t.Errorf("files left: %v", left)
	}
}

func TestChunksAdmitOnSecondMiss(t *testing.T) {
	c, err := OpenChunks(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if c.Missed(chunkID(1)) {
		t.Fatal("hot on its first miss")
	}
	if c.Missed(chunkID(2)) {
		t.Fatal("hot on its first miss")
	}
	if !c.Missed(chunkID(1)) {
		t.Fatal("not hot on its second miss")
	}
}
