package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

const (
	workers   = 8
	perWorker = 40
)

// stressName spreads names over shards the way content hashes do.
func stressName(w, i int) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d", w, i))
	return hex.EncodeToString(sum[:8])
}

func stressKind(i int) storage.Kind { return storage.Kinds[i%len(storage.Kinds)] }

func stressData(w, i int) []byte { return makeData(uint64(w*perWorker+i), 100+i*37) }

// testConcurrent has 8 goroutines put, read back and list many names at once.
// Listings taken mid-flight may miss names but must never show a name that
// was not put (a temp file, a half-written object).
func testConcurrent(t *testing.T, s storage.Store) {
	want := map[storage.Kind]map[string]bool{}
	for _, kind := range storage.Kinds {
		want[kind] = map[string]bool{}
	}
	for w := range workers {
		for i := range perWorker {
			want[stressKind(i)][stressName(w, i)] = true
		}
	}
	runWorkers(func(w int) { stressWorker(t, s, w, want) })
	if t.Failed() {
		return
	}
	for kind, names := range want {
		wantList(t, s, kind, keys(names)...)
	}
	// now delete the odd ones concurrently; the even ones must survive
	runWorkers(func(w int) {
		for i := 1; i < perWorker; i += 2 {
			if err := s.Delete(context.Background(), stressKind(i), stressName(w, i)); err != nil {
				t.Errorf("Delete: %v", err)
			}
		}
	})
	for w := range workers {
		for i := 1; i < perWorker; i += 2 {
			delete(want[stressKind(i)], stressName(w, i))
		}
	}
	for kind, names := range want {
		wantList(t, s, kind, keys(names)...)
	}
}

func stressWorker(t *testing.T, s storage.Store, w int, want map[storage.Kind]map[string]bool) {
	ctx := context.Background()
	for i := range perWorker {
		kind, name, data := stressKind(i), stressName(w, i), stressData(w, i)
		if err := s.Put(ctx, kind, name, bytes.NewReader(data)); err != nil {
			t.Errorf("Put(%s, %s): %v", kind, name, err)
			return
		}
		got, err := getRange(ctx, s, kind, name, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("Get(%s, %s) = %d bytes, %v; want the %d put", kind, name, len(got), err, len(data))
			return
		}
		if i%5 != 0 {
			continue
		}
		lkind := stressKind(i + w)
		names, err := listNames(ctx, s, lkind)
		if err != nil {
			t.Errorf("List(%s): %v", lkind, err)
			return
		}
		for _, n := range names {
			if !want[lkind][n] {
				t.Errorf("List(%s) yielded %q, which was never put", lkind, n)
			}
		}
	}
}

func runWorkers(fn func(w int)) {
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { fn(w) })
	}
	wg.Wait()
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testConcurrentReplace: while one goroutine keeps replacing an object with
// one of two contents of different sizes, readers must always see exactly
// one of them, never a mix, a prefix, or no object at all.
func testConcurrentReplace(t *testing.T, s storage.Store) {
	a, b := bytes.Repeat([]byte{'a'}, 64<<10), bytes.Repeat([]byte{'b'}, 96<<10)
	mustPut(t, s, storage.KindLock, "lock", a)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := range 40 {
			data := [][]byte{a, b}[i%2]
			if err := s.Put(context.Background(), storage.KindLock, "lock", bytes.NewReader(data)); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	for range workers - 1 {
		wg.Go(func() { replaceReader(t, s, done, a, b) })
	}
	wg.Wait()
	wantList(t, s, storage.KindLock, "lock")
}

func replaceReader(t *testing.T, s storage.Store, done <-chan struct{}, a, b []byte) {
	for {
		select {
		case <-done:
			return
		default:
		}
		got, err := getRange(context.Background(), s, storage.KindLock, "lock", 0, -1)
		if err != nil {
			t.Errorf("Get during replace: %v", err)
			return
		}
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Errorf("Get during replace returned %d bytes matching neither version", len(got))
			return
		}
	}
}

// testLarge round-trips 20 MiB fed in uneven small reads, then reads a range
// straddling the middle, to catch buffer and offset bugs in copy loops.
func testLarge(t *testing.T, s storage.Store) {
	data := makeData(42, 20<<20)
	err := s.Put(context.Background(), storage.KindPack, "0123large", iotest.HalfReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	info, err := s.Stat(context.Background(), storage.KindPack, "0123large")
	if err != nil || info.Size != int64(len(data)) {
		t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
	}
	if got := mustGet(t, s, storage.KindPack, "0123large", 0, -1); !bytes.Equal(got, data) {
		t.Fatalf("Get returned %d bytes, differing from the %d put", len(got), len(data))
	}
	off := int64(10<<20 - 3)
	if got := mustGet(t, s, storage.KindPack, "0123large", off, 1<<20); !bytes.Equal(got, data[off:off+1<<20]) {
		t.Fatalf("Get of a middle range returned wrong bytes")
	}
}
