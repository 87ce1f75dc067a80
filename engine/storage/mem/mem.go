// Package mem owns the in-memory storage.Store: a map per kind, for tests
// and throw-away repositories. It keeps the same promises as the disk
// backends (atomic Put, ErrNotExist, ErrInvalidName) so code tested against
// it behaves the same on a real store. Nothing survives the process.
package mem

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"sync"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

var errClosed = errors.New("mem: store is closed")

// Store is an in-memory storage.Store, safe for concurrent use. Bytes are
// copied on the way in and out, so callers never share memory with it.
type Store struct {
	location string

	mu     sync.RWMutex
	objs   map[storage.Kind]map[string][]byte // nil once closed
	closed bool
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store. Its location is random rather than a counter
// so that two processes never produce the same cache key for different data.
func New() *Store {
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails
	objs := make(map[storage.Kind]map[string][]byte, len(storage.Kinds))
	for _, k := range storage.Kinds {
		objs[k] = map[string][]byte{}
	}
	return &Store{location: "mem://" + hex.EncodeToString(id[:]), objs: objs}
}

// check validates the arguments shared by every method.
func check(ctx context.Context, op string, kind storage.Kind, name string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: %s %s/%q: %w", op, kind, name, err)
	}
	if !slices.Contains(storage.Kinds, kind) {
		return fmt.Errorf("mem: %s: unknown kind %q", op, kind)
	}
	if !storage.ValidName(name) {
		return fmt.Errorf("mem: %s %s/%q: %w", op, kind, name, storage.ErrInvalidName)
	}
	return nil
}

// ctxReader fails the copy as soon as ctx is done, so a Put fed by a slow or
// endless reader still honours cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Put reads all of r before touching the map, so a failing reader or a
// cancelled context leaves nothing behind and readers never see a prefix.
func (s *Store) Put(ctx context.Context, kind storage.Kind, name string, r io.Reader) error {
	if err := check(ctx, "put", kind, name); err != nil {
		return err
	}
	data, err := io.ReadAll(ctxReader{ctx, r})
	if err != nil {
		return fmt.Errorf("mem: put %s/%s: %w", kind, name, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem: put %s/%s: %w", kind, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.objs[kind][name] = data // a fresh slice: stored bytes are never mutated
	return nil
}

// lookup returns the stored bytes, which callers must only read.
func (s *Store) lookup(op string, kind storage.Kind, name string) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, errClosed
	}
	data, ok := s.objs[kind][name]
	if !ok {
		return nil, fmt.Errorf("mem: %s %s/%s: %w", op, kind, name, storage.ErrNotExist)
	}
	return data, nil
}

// Get copies the requested range out, so the caller may keep or modify it.
func (s *Store) Get(ctx context.Context, kind storage.Kind, name string, off, length int64) (io.ReadCloser, error) {
	if err := check(ctx, "get", kind, name); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("mem: get %s/%s: negative offset %d", kind, name, off)
	}
	data, err := s.lookup("get", kind, name)
	if err != nil {
		return nil, err
	}
	start := min(off, int64(len(data)))
	n := int64(len(data)) - start
	if length >= 0 {
		n = min(n, length)
	}
	return io.NopCloser(bytes.NewReader(bytes.Clone(data[start : start+n]))), nil
}

// Stat returns the object's size.
func (s *Store) Stat(ctx context.Context, kind storage.Kind, name string) (storage.Info, error) {
	if err := check(ctx, "stat", kind, name); err != nil {
		return storage.Info{}, err
	}
	data, err := s.lookup("stat", kind, name)
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Name: name, Size: int64(len(data))}, nil
}

// List snapshots the names under the lock and yields them without it, so
// the loop body may call back into the store without deadlocking.
func (s *Store) List(ctx context.Context, kind storage.Kind) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := check(ctx, "list", kind, "list"); err != nil {
			yield("", err)
			return
		}
		s.mu.RLock()
		if s.closed {
			s.mu.RUnlock()
			yield("", errClosed)
			return
		}
		names := make([]string, 0, len(s.objs[kind]))
		for name := range s.objs[kind] {
			names = append(names, name)
		}
		s.mu.RUnlock()
		for _, name := range names {
			if err := ctx.Err(); err != nil {
				yield("", fmt.Errorf("mem: list %s: %w", kind, err))
				return
			}
			if !yield(name, nil) {
				return
			}
		}
	}
}

// Delete removes the object.
func (s *Store) Delete(ctx context.Context, kind storage.Kind, name string) error {
	if err := check(ctx, "delete", kind, name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if _, ok := s.objs[kind][name]; !ok {
		return fmt.Errorf("mem: delete %s/%s: %w", kind, name, storage.ErrNotExist)
	}
	delete(s.objs[kind], name)
	return nil
}

// Location returns "mem://" and a random id.
func (s *Store) Location() string { return s.location }

// Close drops every object; later calls fail. Closing twice is harmless.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.objs = true, nil
	return nil
}
