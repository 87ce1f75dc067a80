package ftp

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jlaffaye/ftp"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Scan walks the tree depth-first in pre-order (see the package doc),
// listing on a connection of its own; MDTM, when needed, fans out over the
// pool.
//
// A directory the server refuses to list (a 5xx reply) is yielded with
// Err set and no children; the scan goes on. A dropped connection is
// redialled and the listing retried (Config.Retries, with backoff); when it
// still fails the scan ends with the error: a tree that cannot be listed
// must not pass for a complete one.
func (imp *Importer) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		if imp.closed.Load() {
			yield(importers.Record{}, os.ErrClosed)
			return
		}
		w := &walker{imp: imp, ctx: ctx, yield: yield}
		defer w.release()
		root := importers.Record{Path: "/", Mode: iofs.ModeDir | 0o755, ModTime: time.Unix(0, 0)}
		w.dir(root)
	}
}

type walker struct {
	imp   *Importer
	ctx   context.Context
	yield func(importers.Record, error) bool
	c     *ftp.ServerConn // nil until first needed, and after a failure
	done  bool            // the scan has ended (error yielded or consumer stopped)
}

func (w *walker) release() {
	if w.c != nil {
		w.c.Quit()
		w.c = nil
	}
}

// fail ends the scan with err.
func (w *walker) fail(err error) bool {
	if !w.done {
		w.done = true
		w.yield(importers.Record{}, err)
	}
	return false
}

// emit yields rec unless ctx is done; it returns false when the scan must stop.
func (w *walker) emit(rec importers.Record) bool {
	if w.done {
		return false
	}
	if err := w.ctx.Err(); err != nil {
		return w.fail(err)
	}
	if !w.yield(rec, nil) {
		w.done = true
		return false
	}
	return true
}

// dir lists a directory before emitting it, so that a refusal lands on
// its own record, then walks its children.
func (w *walker) dir(rec importers.Record) bool {
	entries, err := w.list(rec.Path)
	if err != nil {
		if !permanent(err) {
			return w.fail(fmt.Errorf("ftp importer: listing %s: %w", rec.Path, err))
		}
		rec.Err = fmt.Errorf("listing: %w", replyErr(err))
		return w.emit(rec)
	}
	if !w.emit(rec) {
		return false
	}
	if w.imp.mdtm {
		w.imp.exactTimes(w.ctx, rec.Path, entries)
	}
	for _, e := range entries {
		child := w.record(rec.Path, e)
		if child.Mode.IsDir() {
			if !w.dir(child) {
				return false
			}
		} else if !w.emit(child) {
			return false
		}
	}
	return true
}

// list returns the entries of the directory at source path p, sorted by
// name, without "." and "..". It changes into the directory and lists it
// without an argument: servers such as vsftpd treat a LIST argument as a
// glob, and names holding "*", "?" or "[" are common enough.
func (w *walker) list(p string) ([]*ftp.Entry, error) {
	var entries []*ftp.Entry
	err := w.retry(func(c *ftp.ServerConn) error {
		if err := c.ChangeDir(w.imp.serverPath(p)); err != nil {
			return err
		}
		var err error
		entries, err = c.List("")
		return err
	})
	if err != nil {
		return nil, err
	}
	entries = slices.DeleteFunc(entries, func(e *ftp.Entry) bool {
		return e.Name == "." || e.Name == ".." || e.Name == ""
	})
	slices.SortFunc(entries, func(a, b *ftp.Entry) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(entries, func(a, b *ftp.Entry) bool { return a.Name == b.Name }), nil
}

// retry runs op on the scan's connection, redialling after a failure that
// a new connection may cure.
func (w *walker) retry(op func(*ftp.ServerConn) error) error {
	var err error
	for attempt := 0; attempt <= w.imp.cfg.Retries; attempt++ {
		if attempt > 0 {
			if berr := backoff(w.ctx, attempt); berr != nil {
				return berr
			}
		}
		if w.c == nil {
			if w.c, err = w.imp.pool.dialExtra(w.ctx); err != nil {
				if permanent(err) || errors.Is(err, os.ErrClosed) || w.ctx.Err() != nil {
					return err
				}
				continue
			}
		}
		if err = op(w.c); err == nil || permanent(err) {
			return err
		}
		w.c.Quit()
		w.c = nil
	}
	return err
}

// record converts a listing entry of directory dir.
func (w *walker) record(dir string, e *ftp.Entry) importers.Record {
	rec := importers.Record{Path: childPath(dir, e.Name), ModTime: e.Time}
	if strings.Contains(e.Name, "/") {
		// A listing line this client misread, or a server bug: never let
		// it name a path elsewhere in the tree.
		rec.Path = childPath(dir, strings.ReplaceAll(e.Name, "/", "\uFF0F"))
		rec.Err = fmt.Errorf("%w: listed name %q holds a slash", iofs.ErrInvalid, e.Name)
		return rec
	}
	switch e.Type {
	case ftp.EntryTypeFolder:
		rec.Mode = iofs.ModeDir | 0o755
	case ftp.EntryTypeLink:
		rec.Mode = iofs.ModeSymlink | 0o777
		rec.Target = e.Target
	default:
		rec.Mode = 0o644
		rec.Size = int64(e.Size)
	}
	return rec
}

// exactTimes replaces LIST's minute- or day-precision times of the files
// in entries with MDTM's, asking on up to Concurrency connections of the
// pool at once: one round trip per file, in parallel. A failure keeps the
// coarse time: Open will tell whether the file is there.
func (imp *Importer) exactTimes(ctx context.Context, dir string, entries []*ftp.Entry) {
	var files []*ftp.Entry
	for _, e := range entries {
		if e.Type == ftp.EntryTypeFile && !strings.Contains(e.Name, "/") {
			files = append(files, e)
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(imp.cfg.Concurrency, (len(files)+7)/8) {
		wg.Go(func() {
			c, err := imp.pool.get(ctx)
			if err != nil {
				return
			}
			for {
				i := int(next.Add(1)) - 1
				if i >= len(files) || ctx.Err() != nil {
					imp.pool.put(c)
					return
				}
				t, err := c.GetTime(imp.serverPath(childPath(dir, files[i].Name)))
				if err == nil {
					files[i].Time = t
				} else if !permanent(err) {
					imp.pool.discard(c) // the next files keep LIST's times
					return
				}
			}
		})
	}
	wg.Wait()
}

func childPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}
