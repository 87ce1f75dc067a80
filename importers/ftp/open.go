package ftp

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strings"

	"github.com/jlaffaye/ftp"
)

// Open streams the file at p (a path as yielded by Scan) with RETR on a
// connection of the pool, which goes back to the pool when the reader is
// closed. Paths that are not clean and absolute fail with fs.ErrInvalid; a
// file the server refuses (550: missing or unreadable) with fs.ErrNotExist.
//
// A connection that drops, before or during the transfer, is replaced and
// the transfer resumed where it stopped (REST), up to Config.Retries times
// with backoff. An end of data is trusted only once the server confirms the
// transfer (226): a server killed mid-file closes its sockets too, which
// looks like a clean end of file.
func (imp *Importer) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if imp.closed.Load() {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: os.ErrClosed}
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: fmt.Errorf("%w: not a clean absolute file path", iofs.ErrInvalid)}
	}
	r := &reader{imp: imp, ctx: ctx, path: p}
	if err := r.start(); err != nil {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: err}
	}
	return r, nil
}

type reader struct {
	imp      *Importer
	ctx      context.Context
	path     string
	c        *ftp.ServerConn
	resp     *ftp.Response
	offset   uint64
	failures int // retries used so far, for the whole file
	eof      bool
}

// start (re)opens the transfer at r.offset, retrying dropped connections.
func (r *reader) start() error {
	var err error
	for {
		if err = r.retr(); err == nil || permanent(err) || errors.Is(err, os.ErrClosed) || r.ctx.Err() != nil {
			return replyErr(err)
		}
		if r.failures >= r.imp.cfg.Retries {
			return fmt.Errorf("giving up after %d retries: %w", r.failures, err)
		}
		r.failures++
		if berr := backoff(r.ctx, r.failures); berr != nil {
			return berr
		}
	}
}

func (r *reader) retr() error {
	c, err := r.imp.pool.get(r.ctx)
	if err != nil {
		return err
	}
	resp, err := c.RetrFrom(r.imp.serverPath(r.path), r.offset)
	if err != nil {
		if permanent(err) {
			r.imp.pool.put(c) // a refusal leaves the connection usable
		} else {
			r.imp.pool.discard(c)
		}
		return err
	}
	r.c, r.resp = c, resp
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	for {
		if r.eof {
			return 0, io.EOF
		}
		if r.resp == nil {
			return 0, os.ErrClosed
		}
		if err := r.ctx.Err(); err != nil {
			r.drop()
			return 0, err
		}
		n, err := r.resp.Read(p)
		r.offset += uint64(n)
		if err == nil || n > 0 && err == io.EOF {
			return n, nil // an EOF comes back on the next call
		}
		if err == io.EOF {
			// The server's 226 on the control connection says the data
			// was complete.
			cerr := r.resp.Close()
			if cerr == nil {
				r.imp.pool.put(r.c)
				r.c, r.resp, r.eof = nil, nil, true
				return 0, io.EOF
			}
			err = cerr
		}
		r.drop()
		if r.failures >= r.imp.cfg.Retries {
			return 0, fmt.Errorf("ftp %s at byte %d: giving up after %d retries: %w", r.path, r.offset, r.failures, err)
		}
		r.failures++
		if berr := backoff(r.ctx, r.failures); berr != nil {
			return 0, berr
		}
		if serr := r.start(); serr != nil {
			return 0, fmt.Errorf("ftp %s at byte %d: %w (after %v)", r.path, r.offset, serr, err)
		}
	}
}

// drop abandons the current transfer and its connection.
func (r *reader) drop() {
	if r.resp == nil {
		return
	}
	// Closing the control connection first makes the response's Close
	// (which waits for the server's transfer status) return at once.
	r.imp.pool.discard(r.c)
	r.resp.Close()
	r.c, r.resp = nil, nil
}

// Close ends the transfer. A transfer read to its end has already given its
// connection back; one abandoned early is aborted, and its connection
// dropped (what the server says after an abort varies).
func (r *reader) Close() error {
	r.drop()
	r.eof = true
	return nil
}
