package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// objectName gives a plausible name per kind: the config kind holds "config",
// the others hex-like names as the engine produces them.
func objectName(kind storage.Kind) string {
	if kind == storage.KindConfig {
		return "config"
	}
	return "ab12cd34" + string(kind)
}

func testRoundTrip(t *testing.T, s storage.Store) {
	for i, kind := range storage.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			name := objectName(kind)
			data := makeData(uint64(i), 1000+i)
			mustPut(t, s, kind, name, data)
			if got := mustGet(t, s, kind, name, 0, -1); !bytes.Equal(got, data) {
				t.Fatalf("Get returned %d bytes, differing from the %d put", len(got), len(data))
			}
		})
	}
}

func testEmptyObject(t *testing.T, s storage.Store) {
	mustPut(t, s, storage.KindLock, "empty", nil)
	if got := mustGet(t, s, storage.KindLock, "empty", 0, -1); len(got) != 0 {
		t.Fatalf("Get of empty object returned %d bytes", len(got))
	}
	info, err := s.Stat(context.Background(), storage.KindLock, "empty")
	if err != nil || info.Size != 0 {
		t.Fatalf("Stat = %+v, %v; want size 0", info, err)
	}
	wantList(t, s, storage.KindLock, "empty")
}

// testOddValidNames uses names that are valid but trip naive backends: dots
// that are not "." or "..", names equal to layout folders, the longest name.
func testOddValidNames(t *testing.T, s storage.Store) {
	names := []string{
		".hidden", "..x", "x..", "...", "-dash", "with space", "ünïcødé",
		"tmp", "packs", "config", "ab", "a", strings.Repeat("f", 255),
	}
	for _, kind := range storage.Kinds {
		for i, name := range names {
			mustPut(t, s, kind, name, makeData(uint64(i), 10+i))
		}
		for i, name := range names {
			if got := mustGet(t, s, kind, name, 0, -1); !bytes.Equal(got, makeData(uint64(i), 10+i)) {
				t.Fatalf("Get(%s, %q) returned wrong bytes", kind, name)
			}
		}
		wantList(t, s, kind, names...)
	}
}

func testGetRanges(t *testing.T, s storage.Store) {
	data := makeData(7, 100)
	mustPut(t, s, storage.KindPack, "ff00", data)
	cases := []struct {
		off, length int64
		want        []byte
	}{
		{0, -1, data},
		{0, 100, data},
		{10, 20, data[10:30]},
		{99, 1, data[99:]},
		{90, -1, data[90:]},
		{90, 50, data[90:]},            // short: runs past the end
		{10, math.MaxInt64, data[10:]}, // off+length overflows int64
		{0, 0, nil},                    // zero length
		{100, -1, nil},                 // exactly at the end
		{100, 10, nil},                 // at the end with a length
		{150, 10, nil},                 // past the end
		{math.MaxInt64, -1, nil},       // far past the end
		{math.MaxInt64, math.MaxInt64, nil},
	}
	for _, c := range cases {
		got := mustGet(t, s, storage.KindPack, "ff00", c.off, c.length)
		if !bytes.Equal(got, c.want) {
			t.Errorf("Get(off=%d, length=%d) returned %d bytes, want %d", c.off, c.length, len(got), len(c.want))
		}
	}
}

func testStat(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for i, size := range []int{0, 1, 4095, 4096, 4097, 1 << 20} {
		kind := storage.Kinds[i%len(storage.Kinds)]
		name := "stat" + strings.Repeat("x", i)
		mustPut(t, s, kind, name, makeData(uint64(i), size))
		info, err := s.Stat(ctx, kind, name)
		if err != nil {
			t.Fatalf("Stat(%s, %q): %v", kind, name, err)
		}
		if info.Name != name || info.Size != int64(size) {
			t.Errorf("Stat(%s, %q) = %+v, want name %q size %d", kind, name, info, name, size)
		}
	}
}

func testList(t *testing.T, s storage.Store) {
	wantEmpty(t, s)
	var packs []string
	for i := range 300 { // more than one shard's worth on sharded backends
		name := fmt.Sprintf("%02x%04d", i%256, i)
		packs = append(packs, name)
		mustPut(t, s, storage.KindPack, name, []byte(name))
	}
	mustPut(t, s, storage.KindIndex, "i1", []byte("1"))
	mustPut(t, s, storage.KindIndex, "i2", []byte("2"))
	wantList(t, s, storage.KindPack, packs...)
	wantList(t, s, storage.KindIndex, "i1", "i2")
	wantList(t, s, storage.KindSnapshot)
	wantList(t, s, storage.KindLock)
	wantList(t, s, storage.KindConfig)
}

func testKindsApart(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for i, kind := range storage.Kinds {
		mustPut(t, s, kind, "same", []byte(kind))
		if i == 0 {
			continue
		}
		// deleting in one kind must leave the others alone
		prev := storage.Kinds[i-1]
		if err := s.Delete(ctx, prev, "same"); err != nil {
			t.Fatalf("Delete(%s): %v", prev, err)
		}
		if got := mustGet(t, s, kind, "same", 0, -1); string(got) != string(kind) {
			t.Fatalf("Get(%s, same) = %q, want %q", kind, got, kind)
		}
	}
	for i, kind := range storage.Kinds {
		if i == len(storage.Kinds)-1 {
			wantList(t, s, kind, "same")
		} else {
			wantList(t, s, kind)
		}
	}
}

func testDelete(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, kind := range storage.Kinds {
		mustPut(t, s, kind, "gone", []byte("x"))
		mustPut(t, s, kind, "kept", []byte("y"))
		if err := s.Delete(ctx, kind, "gone"); err != nil {
			t.Fatalf("Delete(%s): %v", kind, err)
		}
		wantMissing(t, s, kind, "gone")
		if err := s.Delete(ctx, kind, "gone"); !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("second Delete(%s) error = %v, want ErrNotExist", kind, err)
		}
		wantList(t, s, kind, "kept")
	}
}

func testMissing(t *testing.T, s storage.Store) {
	for _, kind := range storage.Kinds {
		wantMissing(t, s, kind, "nothing-here")
		wantMissing(t, s, kind, "abcdef") // would-be shard folder of a pack
		err := s.Delete(context.Background(), kind, "nothing-here")
		if !errors.Is(err, storage.ErrNotExist) {
			t.Errorf("Delete(%s) of missing object error = %v, want ErrNotExist", kind, err)
		}
	}
}

func testReplace(t *testing.T, s storage.Store) {
	old, neu := makeData(1, 5000), makeData(2, 300)
	mustPut(t, s, storage.KindSnapshot, "snap", old)
	mustPut(t, s, storage.KindSnapshot, "snap", neu)
	if got := mustGet(t, s, storage.KindSnapshot, "snap", 0, -1); !bytes.Equal(got, neu) {
		t.Fatalf("after replace Get returned %d bytes, want the %d new ones", len(got), len(neu))
	}
	info, err := s.Stat(context.Background(), storage.KindSnapshot, "snap")
	if err != nil || info.Size != int64(len(neu)) {
		t.Fatalf("Stat after replace = %+v, %v; want size %d", info, err, len(neu))
	}
	wantList(t, s, storage.KindSnapshot, "snap")
}
