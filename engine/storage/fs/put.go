package fs

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

const (
	tmpPrefix  = "put-"
	staleAfter = time.Hour
	copyBuf    = 256 << 10 // large enough that per-call overhead is noise next to fsync
)

// Put writes r to a temp file and renames it into place; see the package
// doc for why this is atomic and durable. On any failure the temp file is
// removed and an existing object of that name is left untouched.
func (s *Store) Put(ctx context.Context, kind storage.Kind, name string, r io.Reader) (err error) {
	if err := s.check(ctx, "put", kind, name); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Join(s.root, tmpDir), tmpPrefix+"*")
	if err != nil {
		return wrapErr("put", kind, name, err)
	}
	renamed := false
	defer func() {
		if err == nil {
			return
		}
		if !renamed {
			tmp.Close() // may already be closed; the error is irrelevant then
			os.Remove(tmp.Name())
		}
		err = wrapErr("put", kind, name, err)
	}()
	if err := writeSynced(ctx, tmp, r, kind == storage.KindPack); err != nil {
		return err
	}
	dir := s.dir(kind, name)
	if kind == storage.KindPack {
		if err := s.makeShard(dir); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil { // last point where giving up leaves no trace
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	renamed = true
	// The object is now visible; an fsync failure means it may not survive
	// a crash, so report it and let the caller retry the whole Put.
	return syncDir(dir)
}

// writeSynced copies r into f, checking ctx between buffers so a cancelled
// Put stops promptly even on an endless reader, then fsyncs and closes f.
// With uncache, the file's pages then leave the page cache (see dropCache).
func writeSynced(ctx context.Context, f *os.File, r io.Reader, uncache bool) error {
	// onlyWriter hides (*os.File).ReadFrom so that io.CopyBuffer reads
	// through ctxReader into our buffer instead of around it.
	type onlyWriter struct{ io.Writer }
	if wt, ok := r.(io.WriterTo); ok {
		// The reader has the bytes in buffers of its own (the engine's
		// pack pipe): write those, instead of copying them into ours.
		if _, err := wt.WriteTo(ctxWriter{ctx, onlyWriter{f}}); err != nil {
			return err
		}
	} else if _, err := io.CopyBuffer(onlyWriter{f}, ctxReader{ctx, r}, make([]byte, copyBuf)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if uncache {
		dropCache(f)
	}
	return f.Close()
}

// ctxWriter fails the copy as soon as ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// ctxReader fails the copy as soon as ctx is done.
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

// makeShard creates a pack shard folder on first use, and fsyncs packs/ when
// it does so the new folder, and thus the pack renamed into it, is durable.
func (s *Store) makeShard(dir string) error {
	err := os.Mkdir(dir, dirPerm)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(dir))
}

// syncDir fsyncs a folder so that entries just created or renamed in it are
// on disk. Windows cannot fsync folders and makes renames durable itself.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// cleanStaleTemps removes temp files not modified for maxAge. It is best
// effort: another process may be removing the same files, and a leftover
// temp file wastes space but never shows up as an object.
func cleanStaleTemps(dir string, maxAge time.Duration) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-maxAge)
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), tmpPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
