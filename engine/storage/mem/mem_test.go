package mem_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/storage"
	"github.com/plakar-gw/plakar-gw/engine/storage/mem"
	"github.com/plakar-gw/plakar-gw/engine/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return mem.New() })
}

// TestNoAliasing checks bytes are copied in and out: mutating the caller's
// buffers after Put or after Get must not change what the store holds.
func TestNoAliasing(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	in := []byte("original")
	if err := s.Put(ctx, storage.KindIndex, "x", bytes.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	copy(in, "XXXXXXXX")
	out := get(t, s)
	copy(out, "YYYYYYYY")
	if got := get(t, s); string(got) != "original" {
		t.Fatalf("store content changed through caller buffers: %q", got)
	}
}

func get(t *testing.T, s *mem.Store) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), storage.KindIndex, "x", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLocation(t *testing.T) {
	a, b := mem.New(), mem.New()
	if !strings.HasPrefix(a.Location(), "mem://") || a.Location() == b.Location() {
		t.Fatalf("locations %q and %q: want distinct mem:// names", a.Location(), b.Location())
	}
}

func TestClosed(t *testing.T) {
	s := mem.New()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(context.Background(), storage.KindIndex, "x", strings.NewReader("x")); err == nil {
		t.Fatal("Put after Close succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
