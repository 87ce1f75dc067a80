// Package storagetest owns the conformance suite for storage.Store: the one
// place where the promises written on the interface (atomic Put, range Get,
// kinds kept apart, ErrNotExist and ErrInvalidName wrapping, concurrency) are
// turned into checks. Every backend's tests call Run, so a new backend is
// correct exactly when it passes the same suite as the existing ones.
package storagetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// Run checks that the stores returned by open behave as storage.Store
// promises. open must return a fresh, empty store each time it is called;
// Run calls it once per subtest and closes the store when the subtest ends,
// so open should not close it itself.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"RoundTripEachKind", testRoundTrip},
		{"EmptyObject", testEmptyObject},
		{"OddButValidNames", testOddValidNames},
		{"GetRanges", testGetRanges},
		{"StatSizes", testStat},
		{"ListExactNames", testList},
		{"KindsKeptApart", testKindsApart},
		{"Delete", testDelete},
		{"MissingObject", testMissing},
		{"PutReplaces", testReplace},
		{"InvalidNames", testInvalidNames},
		{"FailedReaderStoresNothing", testFailedReader},
		{"FailedReplaceKeepsOld", testFailedReplaceKeepsOld},
		{"CancelledContextBeforePut", testCancelledBefore},
		{"CancelledContextDuringPut", testCancelledDuring},
		{"Concurrent", testConcurrent},
		{"ConcurrentReplaceIsAtomic", testConcurrentReplace},
		{"LargeObject", testLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// makeData returns n deterministic pseudo-random bytes, different per seed,
// so a mixed-up object is detected by content and not only by length.
func makeData(seed uint64, n int) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b) // never fails
	return b
}

func mustPut(t *testing.T, s storage.Store, kind storage.Kind, name string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), kind, name, bytes.NewReader(data)); err != nil {
		t.Fatalf("Put(%s, %q): %v", kind, name, err)
	}
}

// getRange reads a range and closes the reader; it returns errors instead of
// failing so goroutines can use it too.
func getRange(ctx context.Context, s storage.Store, kind storage.Kind, name string, off, length int64) ([]byte, error) {
	rc, err := s.Get(ctx, kind, name, off, length)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(rc)
	if cerr := rc.Close(); err == nil {
		err = cerr
	}
	return b, err
}

func mustGet(t *testing.T, s storage.Store, kind storage.Kind, name string, off, length int64) []byte {
	t.Helper()
	b, err := getRange(context.Background(), s, kind, name, off, length)
	if err != nil {
		t.Fatalf("Get(%s, %q, %d, %d): %v", kind, name, off, length, err)
	}
	return b
}

// listNames collects a listing, sorted so results compare with slices.Equal.
func listNames(ctx context.Context, s storage.Store, kind storage.Kind) ([]string, error) {
	var names []string
	for name, err := range s.List(ctx, kind) {
		if err != nil {
			return names, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

func mustList(t *testing.T, s storage.Store, kind storage.Kind) []string {
	t.Helper()
	names, err := listNames(context.Background(), s, kind)
	if err != nil {
		t.Fatalf("List(%s): %v", kind, err)
	}
	return names
}

// wantList fails unless kind lists exactly want (in any order).
func wantList(t *testing.T, s storage.Store, kind storage.Kind, want ...string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := mustList(t, s, kind); !slices.Equal(got, want) {
		t.Fatalf("List(%s) = %q, want %q", kind, got, want)
	}
}

// wantEmpty fails unless no kind lists anything.
func wantEmpty(t *testing.T, s storage.Store) {
	t.Helper()
	for _, kind := range storage.Kinds {
		wantList(t, s, kind)
	}
}

// wantMissing fails unless Get and Stat both report ErrNotExist.
func wantMissing(t *testing.T, s storage.Store, kind storage.Kind, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := getRange(ctx, s, kind, name, 0, -1); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Get(%s, %q) error = %v, want ErrNotExist", kind, name, err)
	}
	if _, err := s.Stat(ctx, kind, name); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat(%s, %q) error = %v, want ErrNotExist", kind, name, err)
	}
}

// failingReader yields data[:n] then fails with err, like a source file that
// becomes unreadable or a network stream that breaks mid-transfer.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}
