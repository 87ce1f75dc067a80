package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// recvIdle receives one message, cancelling the call with errIdle when the
// plugin stays silent longer than d. Only the wait on the plugin counts:
// time the consumer spends between two calls does not.
func recvIdle[T any](s grpc.ServerStreamingClient[T], cancel context.CancelCauseFunc, d time.Duration) (*T, error) {
	t := time.AfterFunc(d, func() { cancel(errIdle) })
	m, err := s.Recv()
	if !t.Stop() {
		// The call is cancelled now, even if a message slipped through.
		return nil, errIdle
	}
	return m, err
}

// Scan streams the plugin's records, checking each one and their order.
// Anything wrong ends the scan with an error, so that the engine writes
// no snapshot from it.
func (imp *Importer) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(importers.Record{}, fmt.Errorf("plugin %s: Scan: %w", imp.info.Name, err))
			return
		}
		sctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		stream, err := imp.proc.client.Scan(sctx, &pluginpb.ScanRequest{})
		if err != nil {
			yield(importers.Record{}, imp.callError(ctx, "Scan", err))
			return
		}
		var order orderCheck
		for {
			resp, err := recvIdle(stream, cancel, imp.idle)
			if err == io.EOF {
				if err := order.finish(); err != nil {
					yield(importers.Record{}, imp.badData(err))
				}
				return
			}
			if err != nil {
				yield(importers.Record{}, imp.callError(ctx, "Scan", err))
				return
			}
			for _, pr := range resp.Records {
				// A batch arrives whole: the caller's cancellation must
				// still stop it record by record.
				if err := ctx.Err(); err != nil {
					yield(importers.Record{}, fmt.Errorf("plugin %s: Scan: %w", imp.info.Name, err))
					return
				}
				rec, err := wire.FromProto(pr)
				if err == nil {
					err = order.check(rec)
				}
				if err != nil {
					yield(importers.Record{}, imp.badData(err))
					return
				}
				if rec.Mode.IsRegular() && rec.Size <= smallMax && rec.Err == nil {
					imp.hints.add(rec.Path, imp.prefetch.announce(rec.Path))
				}
				if !yield(rec, nil) {
					return
				}
			}
		}
	}
}

func (imp *Importer) badData(err error) error {
	return fmt.Errorf("plugin %s sent bad data, scan abandoned: %w", imp.info.Name, err)
}

// orderCheck enforces the order the engine builds its tree from: "/"
// first, each directory before its contents, its subtree contiguous, no
// path twice. It keeps the open directories only, with the names seen in
// each, so memory follows the depth and width of the current branch.
type orderCheck struct {
	stack []openDir
	n     int
}

type openDir struct {
	path  string
	names map[string]struct{}
}

func (o *orderCheck) check(rec importers.Record) error {
	o.n++
	p := rec.Path
	if o.n == 1 {
		if p != "/" || !rec.Mode.IsDir() {
			return fmt.Errorf("the first record is %q (%v); want the directory \"/\"", p, rec.Mode.Type())
		}
		o.stack = []openDir{{path: "/", names: map[string]struct{}{}}}
		return nil
	}
	if p == "/" {
		return errors.New(`"/" sent twice`)
	}
	parent, name := path.Dir(p), path.Base(p)
	for len(o.stack) > 0 && o.stack[len(o.stack)-1].path != parent {
		o.stack = o.stack[:len(o.stack)-1]
	}
	if len(o.stack) == 0 {
		return fmt.Errorf("%q is out of order: its directory %q was not sent, was sent after it, or its subtree was already left", p, parent)
	}
	top := o.stack[len(o.stack)-1]
	if _, dup := top.names[name]; dup {
		return fmt.Errorf("%q sent twice", p)
	}
	top.names[name] = struct{}{}
	if rec.Mode.IsDir() {
		o.stack = append(o.stack, openDir{path: p, names: map[string]struct{}{}})
	}
	return nil
}

func (o *orderCheck) finish() error {
	if o.n == 0 {
		return errors.New(`the scan ended without any record (want "/" at least)`)
	}
	return nil
}

// Open streams the content of the file at p.
func (imp *Importer) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := wire.CheckPath(p); err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	if rc, ok, err := imp.openSmall(ctx, p); ok {
		return rc, err
	}
	octx, cancel := context.WithCancelCause(ctx)
	stream, err := imp.proc.client.Open(octx, &pluginpb.OpenRequest{Path: []byte(p)})
	if err == nil {
		var first *pluginpb.OpenResponse
		first, err = recvIdle(stream, cancel, imp.idle)
		if err == nil {
			return &reader{imp: imp, ctx: ctx, path: p, stream: stream, cancel: cancel, cur: first,
				segs: imp.proc.codec.segments(first), msgs: 1, done: make(chan struct{})}, nil
		}
		if err == io.EOF {
			cancel(nil)
			return &reader{imp: imp, ctx: ctx, path: p, eof: true, cancel: cancel, done: make(chan struct{})}, nil
		}
	}
	cancel(nil)
	return nil, imp.openError(ctx, p, err)
}

// openError keeps the meaning of the plugin's status for the engine:
// missing, forbidden, invalid.
func (imp *Importer) openError(ctx context.Context, p string, err error) error {
	switch status.Code(err) {
	case codes.NotFound:
		return &fs.PathError{Op: "open", Path: p, Err: &wire.PathError{Msg: status.Convert(err).Message(), Kind: fs.ErrNotExist}}
	case codes.PermissionDenied:
		return &fs.PathError{Op: "open", Path: p, Err: &wire.PathError{Msg: status.Convert(err).Message(), Kind: fs.ErrPermission}}
	case codes.InvalidArgument:
		return &fs.PathError{Op: "open", Path: p, Err: &wire.PathError{Msg: status.Convert(err).Message(), Kind: fs.ErrInvalid}}
	}
	return &fs.PathError{Op: "open", Path: p, Err: imp.callError(ctx, "Open", err)}
}

// reader is the content of one file; Close cancels the stream.
type reader struct {
	imp    *Importer
	ctx    context.Context
	path   string
	stream grpc.ServerStreamingClient[pluginpb.OpenResponse]
	cancel context.CancelCauseFunc
	cur    *pluginpb.OpenResponse // segs point into its buffers
	segs   [][]byte
	eof    bool
	err    error
	msgs   int        // messages received so far
	ahead  chan chunk // read-ahead, once the file proves big
	done   chan struct{}
	closed bool
}

type chunk struct {
	msg *pluginpb.OpenResponse
	err error
}

// readAhead is how many messages the read-ahead keeps: the engine chunks
// a file in one goroutine, and receiving (framing, a copy of every byte)
// would otherwise run on that serial path.
const readAhead = 4

func (r *reader) Read(b []byte) (int, error) {
	for len(r.segs) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.eof {
			return 0, io.EOF
		}
		r.next()
	}
	n := 0
	for n < len(b) && len(r.segs) > 0 {
		c := copy(b[n:], r.segs[0])
		n += c
		if r.segs[0] = r.segs[0][c:]; len(r.segs[0]) == 0 {
			r.segs = r.segs[1:]
		}
	}
	return n, nil
}

// next fills buf, eof or err with the next message. A small file is one
// message and the end: received inline. From the second message on, a
// goroutine receives ahead.
func (r *reader) next() {
	r.imp.proc.codec.release(r.cur)
	r.cur, r.segs = nil, nil
	var c chunk
	if r.ahead == nil && r.msgs >= 2 {
		r.ahead = make(chan chunk, readAhead)
		go r.receive()
	}
	if r.ahead != nil {
		c = <-r.ahead
	} else {
		c = r.recv()
	}
	r.msgs++
	switch {
	case c.err == io.EOF:
		r.eof = true
	case c.err != nil:
		r.err = c.err
	default:
		r.cur, r.segs = c.msg, r.imp.proc.codec.segments(c.msg)
	}
}

func (r *reader) recv() chunk {
	m, err := recvIdle(r.stream, r.cancel, r.imp.idle)
	if err != nil {
		if err != io.EOF {
			err = r.imp.openError(r.ctx, r.path, err)
		}
		return chunk{err: err}
	}
	return chunk{msg: m}
}

// receive runs until the reader is closed (which the io.ReadCloser
// contract promises), then gives back the buffers nobody will read.
func (r *reader) receive() {
	defer r.drain()
	for {
		c := r.recv()
		select {
		case r.ahead <- c:
		case <-r.done:
			r.imp.proc.codec.release(c.msg)
			return
		}
		if c.err != nil {
			<-r.done
			return
		}
	}
}

func (r *reader) drain() {
	for {
		select {
		case c := <-r.ahead:
			r.imp.proc.codec.release(c.msg)
		default:
			return
		}
	}
}

// WriteTo hands each received chunk to w without another copy.
func (r *reader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		for len(r.segs) > 0 {
			n, err := w.Write(r.segs[0])
			total += int64(n)
			r.segs[0] = r.segs[0][n:]
			if err != nil {
				return total, err
			}
			r.segs = r.segs[1:]
		}
		if r.err != nil {
			return total, r.err
		}
		if r.eof {
			return total, nil
		}
		r.next()
	}
}

// Close cancels the stream. The read-ahead, if any, gives back what it
// holds when it sees done.
func (r *reader) Close() error {
	if !r.closed {
		r.closed = true
		r.cancel(nil)
		close(r.done)
		r.imp.proc.codec.release(r.cur)
		r.cur, r.segs = nil, nil
	}
	return nil
}
