package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

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
		// A fresh buffer each time: gRPC may still hold the sent message.
		buf := make([]byte, wire.ChunkSize)
		n, err := io.ReadFull(rc, buf)
		if n > 0 || first {
			if err := stream.Send(&pluginpb.OpenResponse{Data: buf[:n]}); err != nil {
				return err
			}
		}
		switch {
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return nil
		case err != nil:
			return toStatus(err)
		}
	}
}

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
