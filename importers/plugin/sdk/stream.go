package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/internal/wire"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// maxBatch bounds the records of one Scan message.
const maxBatch = 512

type scanItem struct {
	rec importers.Record
	err error
}

// Scan runs the importer's scan in a goroutine and sends whatever it has
// produced when the stream is ready for more: batches grow under load and
// stay single records when the source is slow, so the host never waits
// for a batch to fill.
func (s *server) Scan(req *pluginpb.ScanRequest, stream grpc.ServerStreamingServer[pluginpb.ScanResponse]) error {
	imp, err := s.importer()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel()
	items := make(chan scanItem, maxBatch)
	go func() {
		defer close(items)
		for rec, err := range imp.Scan(ctx) {
			select {
			case items <- scanItem{rec, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for {
		it, ok := <-items
		if !ok {
			return ctx.Err()
		}
		var batch []*pluginpb.Record
	fill:
		for {
			if it.err != nil {
				if len(batch) > 0 {
					if err := stream.Send(&pluginpb.ScanResponse{Records: batch}); err != nil {
						return err
					}
				}
				return toStatus(it.err)
			}
			batch = append(batch, wire.ToProto(it.rec))
			if len(batch) == maxBatch {
				break
			}
			select {
			case it, ok = <-items:
				if !ok {
					break fill
				}
			default:
				break fill
			}
		}
		if err := stream.Send(&pluginpb.ScanResponse{Records: batch}); err != nil {
			return err
		}
		if !ok {
			return ctx.Err()
		}
	}
}

// Open sends the first chunk as soon as it is read, so that the host
// learns of a missing file from the call itself.
func (s *server) Open(req *pluginpb.OpenRequest, stream grpc.ServerStreamingServer[pluginpb.OpenResponse]) error {
	imp, err := s.importer()
	if err != nil {
		return err
	}
	p := string(req.Path)
	if err := wire.CheckPath(p); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	rc, err := imp.Open(stream.Context(), p)
	if err != nil {
		return toStatus(err)
	}
	defer rc.Close()
	for first := true; ; first = false {
		bp := chunks.Get(wire.ChunkSize)
		n, err := io.ReadFull(rc, *bp)
		if n > 0 || first {
			m := &pluginpb.OpenResponse{Data: (*bp)[:n]}
			// Held, the buffer goes to gRPC, which returns it to the pool
			// once written; otherwise Send copies it and it is ours again.
			held := content.hold(m, bp)
			if serr := stream.Send(m); serr != nil {
				if b, ok := content.unhold(m); ok {
					chunks.Put(b)
				}
				return serr
			}
			if !held {
				chunks.Put(bp)
			}
		} else {
			chunks.Put(bp)
		}
		switch {
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return toStatus(err)
		}
	}
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, wire.ChunkSize)
	return &b
}}

// toStatus translates an importer error into the status the protocol
// names for it.
func toStatus(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Unknown
	switch {
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, fs.ErrNotExist):
		code = codes.NotFound
	case errors.Is(err, fs.ErrPermission):
		code = codes.PermissionDenied
	case errors.Is(err, fs.ErrInvalid):
		code = codes.InvalidArgument
	case errors.Is(err, errNoInit), errors.Is(err, errAlreadyInit):
		code = codes.FailedPrecondition
	case errors.Is(err, errors.ErrUnsupported):
		code = codes.Unimplemented
	}
	return status.Error(code, err.Error())
}

func statusf(kind error, format string, args ...any) error {
	return toStatus(&wrapped{msg: fmt.Sprintf(format, args...), kind: kind})
}

type wrapped struct {
	msg  string
	kind error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.kind }

// maxSmall bounds ReadSmall's max_size, whatever the host asks: one
// pooled buffer holds the file and a byte more.
const maxSmall = wire.ChunkSize - 1

// ReadSmall reads each file whole, or says it is too big.
func (s *server) ReadSmall(ctx context.Context, req *pluginpb.ReadSmallRequest) (*pluginpb.ReadSmallResponse, error) {
	imp, err := s.importer()
	if err != nil {
		return nil, err
	}
	limit := min(req.MaxSize, maxSmall)
	if limit <= 0 || int64(len(req.Paths))*limit > wire.MaxMessage/2 {
		return nil, status.Errorf(codes.InvalidArgument, "ReadSmall: %d files of up to %d bytes", len(req.Paths), req.MaxSize)
	}
	resp := &pluginpb.ReadSmallResponse{Files: make([]*pluginpb.SmallFile, len(req.Paths))}
	// A few readers at once: opening a file is mostly waiting on a
	// syscall, or on the network for a remote source.
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range min(smallReaders, len(req.Paths)) {
		wg.Go(func() {
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			buf := (*bp)[:limit+1]
			for {
				i := int(next.Add(1) - 1)
				if i >= len(req.Paths) {
					return
				}
				resp.Files[i] = readSmall(ctx, imp, string(req.Paths[i]), buf)
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, toStatus(err)
	}
	return resp, nil
}

// smallReaders files of one ReadSmall call are read at once.
const smallReaders = 4

func readSmall(ctx context.Context, imp importers.Importer, p string, buf []byte) *pluginpb.SmallFile {
	fail := func(err error) *pluginpb.SmallFile {
		return &pluginpb.SmallFile{Error: strings.ToValidUTF8(err.Error(), "\uFFFD"), ErrorKind: wire.KindOf(err)}
	}
	if err := wire.CheckPath(p); err != nil {
		return fail(&fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid})
	}
	rc, err := imp.Open(ctx, p)
	if err != nil {
		return fail(err)
	}
	defer rc.Close()
	n, err := io.ReadFull(rc, buf)
	switch {
	case n == len(buf):
		return &pluginpb.SmallFile{TooBig: true}
	case err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF):
		return fail(err)
	}
	return &pluginpb.SmallFile{Data: bytes.Clone(buf[:n])}
}
