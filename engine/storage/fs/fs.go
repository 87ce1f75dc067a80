// Package fs owns the local-folder storage.Store: how repository objects are
// laid out on a local disk and how they are written so that a crash never
// leaves a partial object visible.
//
// Layout under the root folder (each kind folder is named after its Kind):
//
//	<root>/config/config        the repository config (KindConfig)
//	<root>/index/<name>         index deltas (KindIndex)
//	<root>/snapshots/<name>     snapshot headers (KindSnapshot)
//	<root>/locks/<name>         lock objects (KindLock)
//	<root>/packs/ab/abcdef…     packfiles (KindPack), sharded by name
//	<root>/packs/_/<name>       packs whose name does not start with two hex digits
//	<root>/tmp/put-*            in-flight writes, never listed
//
// Every kind, config included, has its own folder so that any valid name
// works for every kind: no object can collide with a layout folder, and
// listing a kind never has to filter out the layout itself.
//
// Packs are spread over at most 256 subfolders named by the first two
// characters of the name when those are lowercase hex digits (content hashes
// always are), so no single folder grows to millions of entries. Other names
// go to "_", which also keeps names like "..x" from being used as a folder.
// Shard folders are created on first use.
//
// Put writes a unique temp file in tmp/, fsyncs it, renames it into place
// and fsyncs the destination folder: readers see all of an object or none
// of it, and a nil error means the object survives a crash. tmp/ is on the
// same filesystem as the kind folders, which rename requires. New removes
// temp files untouched for over an hour: they belong to writers that
// crashed, since a live writer keeps touching its file.
//
// Files are created 0600 and folders 0700: a repository is private.
package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

const (
	dirPerm  = 0o700 // files get 0600 from os.CreateTemp
	tmpDir   = "tmp"
	otherDir = "_" // shard for pack names not starting with two hex digits
)

var errClosed = errors.New("fs: store is closed")

// Config says where the repository lives.
type Config struct {
	Path string // root folder; created if missing
}

// Store is a storage.Store on a local folder, safe for concurrent use by
// goroutines and by several processes sharing the folder.
type Store struct {
	root   string // absolute, cleaned
	closed atomic.Bool
}

var _ storage.Store = (*Store)(nil)

// New opens the repository folder at cfg.Path, creating the layout if
// missing, and removes stale temp files left by crashed writers.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Path == "" {
		return nil, errors.New("fs: empty path")
	}
	root, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("fs: %w", err)
	}
	if err := makeLayout(root); err != nil {
		return nil, err
	}
	cleanStaleTemps(filepath.Join(root, tmpDir), staleAfter)
	return &Store{root: root}, nil
}

// makeLayout creates the root, one folder per kind and tmp/, then fsyncs the
// root so the layout itself survives a crash.
func makeLayout(root string) error {
	if err := os.MkdirAll(root, dirPerm); err != nil {
		return fmt.Errorf("fs: create root: %w", err)
	}
	for _, k := range storage.Kinds {
		if err := mkdir(filepath.Join(root, string(k))); err != nil {
			return err
		}
	}
	if err := mkdir(filepath.Join(root, tmpDir)); err != nil {
		return err
	}
	return syncDir(root)
}

// mkdir creates dir if missing; an existing folder is fine.
func mkdir(dir string) error {
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("fs: %w", err)
	}
	return nil
}

// check validates the arguments shared by every method.
func (s *Store) check(ctx context.Context, op string, kind storage.Kind, name string) error {
	if s.closed.Load() {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("fs: %s %s/%q: %w", op, kind, name, err)
	}
	if !slices.Contains(storage.Kinds, kind) {
		return fmt.Errorf("fs: %s: unknown kind %q", op, kind)
	}
	if !storage.ValidName(name) {
		return fmt.Errorf("fs: %s %s/%q: %w", op, kind, name, storage.ErrInvalidName)
	}
	return nil
}

// dir returns the folder holding (kind, name).
func (s *Store) dir(kind storage.Kind, name string) string {
	if kind == storage.KindPack {
		return filepath.Join(s.root, string(kind), shard(name))
	}
	return filepath.Join(s.root, string(kind))
}

func (s *Store) path(kind storage.Kind, name string) string {
	return filepath.Join(s.dir(kind, name), name)
}

// shard names the pack subfolder for name; see the package doc.
func shard(name string) string {
	if len(name) >= 2 && isHex(name[0]) && isHex(name[1]) {
		return name[:2]
	}
	return otherDir
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// isShard reports whether a folder under packs/ is one this store writes.
func isShard(dir string) bool { return shard(dir) == dir }

// wrapErr prefixes err with the operation and maps a missing file to
// storage.ErrNotExist, keeping the os error in the chain too.
func wrapErr(op string, kind storage.Kind, name string, err error) error {
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fs: %s %s/%s: %w: %w", op, kind, name, storage.ErrNotExist, err)
	}
	return fmt.Errorf("fs: %s %s/%s: %w", op, kind, name, err)
}

// Location returns the absolute root folder.
func (s *Store) Location() string { return s.root }

// Close marks the store unusable; there is nothing to release because every
// operation opens and closes its own files. Closing twice is harmless.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}
