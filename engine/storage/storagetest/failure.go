package storagetest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

var invalidNames = []string{"", ".", "..", "a/b", "a\\b", "x\x00y", "/", "../x", strings.Repeat("n", 256)}

// testInvalidNames checks every method refuses names that could escape a
// folder or collide on some backend, and that a refused Put stores nothing.
func testInvalidNames(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, kind := range storage.Kinds {
		for _, name := range invalidNames {
			if err := s.Put(ctx, kind, name, strings.NewReader("x")); !errors.Is(err, storage.ErrInvalidName) {
				t.Errorf("Put(%s, %q) error = %v, want ErrInvalidName", kind, name, err)
			}
			if _, err := getRange(ctx, s, kind, name, 0, -1); !errors.Is(err, storage.ErrInvalidName) {
				t.Errorf("Get(%s, %q) error = %v, want ErrInvalidName", kind, name, err)
			}
			if _, err := s.Stat(ctx, kind, name); !errors.Is(err, storage.ErrInvalidName) {
				t.Errorf("Stat(%s, %q) error = %v, want ErrInvalidName", kind, name, err)
			}
			if err := s.Delete(ctx, kind, name); !errors.Is(err, storage.ErrInvalidName) {
				t.Errorf("Delete(%s, %q) error = %v, want ErrInvalidName", kind, name, err)
			}
		}
	}
	wantEmpty(t, s)
	// "a/b" must not have reached a sibling "b" either
	wantMissing(t, s, storage.KindIndex, "b")
}

var errBoom = errors.New("storagetest: reader broke")

// testFailedReader: a Put whose source breaks after some bytes must fail with
// the source's error and leave no object, not even a prefix.
func testFailedReader(t *testing.T, s storage.Store) {
	ctx := context.Background()
	for _, kind := range storage.Kinds {
		r := &failingReader{data: makeData(3, 100_000), err: errBoom}
		if err := s.Put(ctx, kind, "broken", r); !errors.Is(err, errBoom) {
			t.Fatalf("Put(%s) with failing reader error = %v, want it to wrap the reader's error", kind, err)
		}
		wantMissing(t, s, kind, "broken")
	}
	wantEmpty(t, s)
}

// testFailedReplaceKeepsOld: a failed Put over an existing name must leave
// the old object whole, since replacement is atomic.
func testFailedReplaceKeepsOld(t *testing.T, s storage.Store) {
	old := makeData(4, 3000)
	mustPut(t, s, storage.KindIndex, "keep", old)
	r := &failingReader{data: makeData(5, 10_000), err: errBoom}
	if err := s.Put(context.Background(), storage.KindIndex, "keep", r); !errors.Is(err, errBoom) {
		t.Fatalf("Put with failing reader error = %v, want it to wrap the reader's error", err)
	}
	if got := mustGet(t, s, storage.KindIndex, "keep", 0, -1); !bytes.Equal(got, old) {
		t.Fatalf("after failed replace Get returned %d bytes, want the old %d", len(got), len(old))
	}
	wantList(t, s, storage.KindIndex, "keep")
}

func testCancelledBefore(t *testing.T, s storage.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, kind := range storage.Kinds {
		err := s.Put(ctx, kind, "cancelled", bytes.NewReader(makeData(6, 1000)))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%s) with cancelled context error = %v, want context.Canceled", kind, err)
		}
		wantMissing(t, s, kind, "cancelled")
	}
	wantEmpty(t, s)
}

// cancellingReader is an endless source that cancels its context on the
// first read. Past cancelSlack bytes after that it fails with
// errIgnoredCancel, so a Put that does not watch ctx while copying fails
// the test instead of hanging on it.
type cancellingReader struct {
	cancel context.CancelFunc
	served int
}

const cancelSlack = 64 << 20 // room for a backend that buffers a whole part

var errIgnoredCancel = errors.New("storagetest: Put kept reading long after its context was cancelled")

func (c *cancellingReader) Read(p []byte) (int, error) {
	c.cancel()
	if c.served > cancelSlack {
		return 0, errIgnoredCancel
	}
	clear(p)
	c.served += len(p)
	return len(p), nil
}

func testCancelledDuring(t *testing.T, s storage.Store) {
	for _, kind := range storage.Kinds {
		ctx, cancel := context.WithCancel(context.Background())
		err := s.Put(ctx, kind, "cancelled", &cancellingReader{cancel: cancel})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Put(%s) cancelled while copying error = %v, want context.Canceled", kind, err)
		}
		wantMissing(t, s, kind, "cancelled")
	}
	wantEmpty(t, s)
}
