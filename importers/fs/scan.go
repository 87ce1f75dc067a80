package fs

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"slices"
	"syscall"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Scan walks the tree depth-first in pre-order (see the package doc).
//
// Only the names of the directories on the current branch are held in
// memory, one slice per level, never the whole tree.
//
// Per-path failures become records with Err set and the walk goes on:
//   - an entry that vanished or cannot be lstat'ed: Path and Err only;
//   - a directory that cannot be opened or read: its record (metadata from
//     lstat) with Err set, and no children;
//   - a symlink target or xattr that cannot be read: the record with all
//     other metadata and Err set; a directory in that case is still
//     followed by its children.
//
// The scan ends with a non-nil error only when ctx is done (ctx.Err()),
// when the root itself can no longer be read as a directory, or when the
// importer is closed.
func (imp *Importer) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		if imp.closed.Load() {
			yield(importers.Record{}, os.ErrClosed)
			return
		}
		rec, err := imp.rootRecord()
		if err != nil {
			yield(importers.Record{}, err)
			return
		}
		w := walker{imp: imp, ctx: ctx, yield: yield}
		w.dir(rec, imp.root, false)
	}
}

// rootRecord stats the root, following it if it is a symlink (see the
// package doc). A root that is gone or no longer a directory ends the scan:
// there is nothing left to import.
func (imp *Importer) rootRecord() (importers.Record, error) {
	fi, err := os.Stat(imp.root)
	if err != nil {
		return importers.Record{}, fmt.Errorf("fs importer: root: %w", err)
	}
	if !fi.IsDir() {
		return importers.Record{}, fmt.Errorf("fs importer: root %s: not a directory", imp.root)
	}
	rec := imp.fromInfo("/", imp.root, fi)
	rec.Err = imp.addXattrs(&rec, imp.root)
	return rec, nil
}

type walker struct {
	imp   *Importer
	ctx   context.Context
	yield func(importers.Record, error) bool
}

// emit yields rec unless ctx is done; it returns false when the scan must stop.
func (w *walker) emit(rec importers.Record) bool {
	if err := w.ctx.Err(); err != nil {
		w.yield(importers.Record{}, err)
		return false
	}
	return w.yield(rec, nil)
}

// dir reads the directory before emitting it, so that a read failure can
// be reported on the directory's own record, then walks its children.
func (w *walker) dir(rec importers.Record, osPath string, nofollow bool) bool {
	names, err := readNames(osPath, nofollow)
	if err != nil {
		rec.Err = errors.Join(rec.Err, err)
		return w.emit(rec)
	}
	if !w.emit(rec) {
		return false
	}
	for _, name := range names {
		childOS := childPath(osPath, name)
		child := w.imp.record(childPath(rec.Path, name), childOS)
		if child.Mode.IsDir() {
			if !w.dir(child, childOS, true) {
				return false
			}
		} else if !w.emit(child) {
			return false
		}
	}
	return true
}

// readNames returns the names in a directory in byte order. Below the root
// the directory is opened with O_NOFOLLOW: if it was replaced by a symlink
// since lstat, the open fails rather than walking somewhere else.
func readNames(osPath string, nofollow bool) ([]string, error) {
	flags := os.O_RDONLY | syscall.O_DIRECTORY
	if nofollow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(osPath, flags, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	return names, nil
}
