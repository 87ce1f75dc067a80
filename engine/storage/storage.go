// Package storage owns where repository bytes live: the Store interface that
// every backend implements (local folder, in-memory, later S3), and the small
// vocabulary shared by them. It knows nothing of packs, keys or snapshots: a
// Store moves opaque named objects of a few kinds.
package storage

import (
	"context"
	"errors"
	"io"
	"iter"
)

// Kind groups objects; each backend keeps kinds apart (a folder, a key prefix).
type Kind string

const (
	KindConfig   Kind = "config"    // the single repository config object, name "config"
	KindPack     Kind = "packs"     // packfiles, many blobs each
	KindIndex    Kind = "index"     // index deltas, one per ingest
	KindSnapshot Kind = "snapshots" // snapshot headers
	KindLock     Kind = "locks"     // shared and exclusive lock objects
)

// Kinds lists every kind, in a stable order.
var Kinds = []Kind{KindConfig, KindPack, KindIndex, KindSnapshot, KindLock}

var (
	// ErrNotExist is returned (wrapped) by Get, Stat and Delete for a missing object.
	ErrNotExist = errors.New("storage: object does not exist")
	// ErrInvalidName is returned for a name a backend cannot store safely
	// (empty, contains '/', '\\', NUL, or is "." or "..").
	ErrInvalidName = errors.New("storage: invalid object name")
)

// Info describes one stored object.
type Info struct {
	Name string
	Size int64
}

// Store is where a repository keeps its objects. Implementations must be safe
// for concurrent use by several goroutines, and several processes may use the
// same repository at once, so guarantees are stated per method.
type Store interface {
	// Put stores the whole of r under (kind, name). It is atomic: a reader
	// sees either nothing or all of the bytes, never a prefix, also after a
	// crash at any moment. When Put returns nil the object is durable.
	// Putting an existing name replaces it atomically.
	Put(ctx context.Context, kind Kind, name string, r io.Reader) error

	// Get returns length bytes starting at off; length < 0 means up to the
	// end. A range past the end returns what exists (possibly nothing); the
	// caller checks lengths. The caller closes the reader.
	Get(ctx context.Context, kind Kind, name string, off, length int64) (io.ReadCloser, error)

	// Stat returns the object's size.
	Stat(ctx context.Context, kind Kind, name string) (Info, error)

	// List yields the names of every object of kind, in no particular order.
	// Objects put or deleted during the listing may or may not appear.
	List(ctx context.Context, kind Kind) iter.Seq2[string, error]

	// Delete removes the object. Deleting a missing object returns ErrNotExist.
	Delete(ctx context.Context, kind Kind, name string) error

	// Location names the store for humans and for cache keys ("/srv/repo",
	// "mem://…"); it never contains secrets.
	Location() string

	// Close releases resources; the store is unusable afterwards.
	Close() error
}

// Prefetcher is a Store that can start fetching a range before it is read:
// a folder asks the kernel to read it into the page cache in the
// background. Prefetch returns at once and may do nothing; errors are left
// for the read.
type Prefetcher interface {
	Prefetch(kind Kind, name string, off, length int64)
}

// ValidName reports whether name is safe to use as an object name on every backend.
func ValidName(name string) bool {
	if name == "" || name == "." || name == ".." || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '/', '\\', 0:
			return false
		}
	}
	return true
}
