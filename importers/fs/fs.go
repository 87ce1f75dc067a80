// Package fs is the importer for a local directory tree (Linux). It owns
// walking the tree, turning each entry's lstat, symlink target, owner names
// and extended attributes into an importers.Record, and opening regular
// files for the engine without ever leaving the tree or following a symlink.
//
// The package is named fs like its importer Type; callers import it as
//
//	import fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
//
// to keep it apart from io/fs.
//
// Scan order: depth-first pre-order. "/" comes first; a directory comes
// right before its contents and its whole subtree follows it contiguously,
// so a consumer knows a directory is complete as soon as a record's path is
// outside it. Siblings come in byte order of their names (not of their full
// paths: "/a/x" comes before "/a b" because "a" < "a b").
//
// Symlinks are never followed, except the root itself: Config.Root may be a
// symlink to a directory, because naming it is the user's explicit choice.
// Mount points inside the tree are crossed like ordinary directories.
package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Type is the value of Importer.Type.
const Type = "fs"

// Config selects the tree to import.
type Config struct {
	// Root is the directory to import; relative paths are resolved
	// against the working directory when New is called.
	Root string
}

// Importer reads a local directory tree. It is safe for concurrent use.
type Importer struct {
	root string // absolute, cleaned
	// dir is kept open so that Open resolves paths from the directory that
	// was checked in New, with openat, and never re-walks Root by name.
	dir    *os.File
	rawDir syscall.RawConn
	closed atomic.Bool
	names  ownerNames
}

var _ importers.Importer = (*Importer)(nil)

// New checks that cfg.Root is an existing directory and opens it.
func New(ctx context.Context, cfg Config) (*Importer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.Root == "" {
		return nil, errors.New("fs importer: empty root")
	}
	root, err := filepath.Abs(cfg.Root) // Abs also cleans
	if err != nil {
		return nil, fmt.Errorf("fs importer: root %q: %w", cfg.Root, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("fs importer: root: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("fs importer: root %s: not a directory", root)
	}
	dir, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("fs importer: root: %w", err)
	}
	raw, err := dir.SyscallConn()
	if err != nil {
		dir.Close()
		return nil, fmt.Errorf("fs importer: root %s: %w", root, err)
	}
	return &Importer{root: root, dir: dir, rawDir: raw}, nil
}

// Type returns "fs".
func (imp *Importer) Type() string { return Type }

// Origin returns the absolute path of the root directory.
func (imp *Importer) Origin() string { return imp.root }

// Close releases the root directory. Open and Scan fail afterwards.
func (imp *Importer) Close() error {
	if imp.closed.Swap(true) {
		return nil
	}
	return imp.dir.Close()
}

// osPath turns a source path ("/", "/a/b") into the OS path under root.
func (imp *Importer) osPath(p string) string {
	if p == "/" {
		return imp.root
	}
	if imp.root == "/" {
		return p
	}
	return imp.root + p
}

// childPath appends name to a source or OS directory path without
// path.Join: names from readdir never hold "/", "." or "..", so cleaning
// is wasted work on every entry of the tree.
func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
