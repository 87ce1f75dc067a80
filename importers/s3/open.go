package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// maxResumes bounds how often one object's body is re-requested after
// the connection dropped mid-stream (the SDK retries only the request).
const maxResumes = 3

// Open streams the object for p (a path as yielded by Scan) with
// GetObject; the body is read as the caller reads, so memory stays bounded
// whatever the object's size. At most Config.Concurrency objects are open
// at once; Open waits for a slot. The SDK retries throttling, 5xx and
// dropped connections before the body; a body cut short is resumed with a
// Range request pinned to the same ETag, so an object replaced meanwhile
// fails instead of mixing two versions.
//
// Errors: fs.ErrInvalid for a path that is not clean and absolute,
// fs.ErrNotExist for a missing object, fs.ErrPermission for a 403.
func (imp *Importer) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if imp.closed.Load() {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: os.ErrClosed}
	}
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p || p == "/" {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: fmt.Errorf("%w: not a clean absolute file path", iofs.ErrInvalid)}
	}
	select {
	case imp.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := &reader{imp: imp, ctx: ctx, path: p}
	if err := r.get(); err != nil {
		<-imp.sem
		return nil, &iofs.PathError{Op: "open", Path: p, Err: err}
	}
	return r, nil
}

type reader struct {
	imp     *Importer
	ctx     context.Context
	path    string
	body    io.ReadCloser
	etag    string
	offset  int64
	resumes int
	closed  bool
}

func (r *reader) get() error {
	in := &s3.GetObjectInput{Bucket: aws.String(r.imp.bucket), Key: aws.String(r.imp.key(r.path))}
	if r.offset > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", r.offset))
		in.IfMatch = aws.String(r.etag)
	}
	out, err := r.imp.client.GetObject(r.ctx, in)
	if err != nil {
		return mapErr(err)
	}
	if r.offset > 0 && !strings.HasPrefix(aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-", r.offset)) {
		// A server that ignored the Range would repeat the start.
		out.Body.Close()
		return fmt.Errorf("resume at byte %d: server answered range %q", r.offset, aws.ToString(out.ContentRange))
	}
	r.body = out.Body
	if r.offset == 0 {
		r.etag = aws.ToString(out.ETag)
	}
	return nil
}

func (r *reader) Read(p []byte) (int, error) {
	for {
		if r.closed {
			return 0, os.ErrClosed
		}
		n, err := r.body.Read(p)
		r.offset += int64(n)
		if err == nil || err == io.EOF || n > 0 {
			if n > 0 && err != nil && err != io.EOF {
				err = nil // report it on the next call, after these bytes
			}
			return n, err
		}
		if r.ctx.Err() != nil || r.resumes >= maxResumes || r.etag == "" {
			return 0, err
		}
		r.resumes++
		r.body.Close()
		if gerr := r.get(); gerr != nil {
			r.body = io.NopCloser(strings.NewReader(""))
			return 0, fmt.Errorf("resuming at byte %d after %v: %w", r.offset, err, gerr)
		}
	}
}

func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.body.Close()
	<-r.imp.sem
	return err
}

// mapErr keeps the SDK's error (its message names the operation and the
// status) and makes it match the io/fs errors the engine knows.
func mapErr(err error) error {
	var nsk *types.NoSuchKey
	var re *smithyhttp.ResponseError
	var ae smithy.APIError
	switch {
	case errors.As(err, &nsk):
		return fmt.Errorf("%w: %w", iofs.ErrNotExist, err)
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound:
		return fmt.Errorf("%w: %w", iofs.ErrNotExist, err)
	case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden,
		errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied":
		return fmt.Errorf("%w: %w", iofs.ErrPermission, err)
	}
	return err
}
