package cache

import (
	"bytes"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plakar-gw/plakar-gw/engine/blob"
)

// TestTreesBounded: tree nodes fill one generation, then the older one is
// emptied and takes the new nodes; a node read from the older generation
// and put again survives the next turn, the others do not; the database
// stops growing.
func TestTreesBounded(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.treesGen = 10 << 10                 // 10 KiB a generation
	c.db.MaxBatchDelay = time.Microsecond // puts one after the other here
	node := func(i int) (blob.ID, []byte) {
		var id blob.ID
		id[0], id[1] = byte(i), byte(i>>8)
		return id, bytes.Repeat([]byte{byte(i)}, 1<<10)
	}
	put := func(from, to int) {
		for i := from; i < to; i++ {
			id, v := node(i)
			if err := c.PutTree(id, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	put(0, 10) // generation 1 full after the 11th KiB
	if got, ok, stale := c.Tree(func() blob.ID { id, _ := node(3); return id }()); !ok || stale || got[0] != 3 {
		t.Fatalf("node 3: %v %v", ok, stale)
	}
	put(10, 12) // turn: 0-10 are the older generation, 11 the current
	id3, v3 := node(3)
	got, ok, stale := c.Tree(id3)
	if !ok || !stale || !bytes.Equal(got, v3) {
		t.Fatalf("node 3 after a turn: found %v stale %v", ok, stale)
	}
	if err := c.PutTree(id3, got); err != nil { // kept, as loadNode does
		t.Fatal(err)
	}
	put(12, 22) // another turn: 0-10 go, except 3
	for i, want := range map[int]bool{0: false, 3: true, 9: false, 11: true, 21: true} {
		id, _ := node(i)
		if _, ok, _ := c.Tree(id); ok != want {
			t.Errorf("node %d cached %v, want %v", i, ok, want)
		}
	}

	// Many turns later, about two generations are kept.
	put(100, 600)
	var n int
	c.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketTreesA).Stats().KeyN + tx.Bucket(bucketTreesB).Stats().KeyN
		return nil
	})
	if n > 22 {
		t.Errorf("%d tree nodes cached, want at most two generations of 11", n)
	}
}
