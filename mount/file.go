package mount

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// handle is an open regular file. Reads go to the file's ReadAt: a random
// pread fetches only the chunks it covers, and sequential reads get the
// engine's prefetch of the next chunk. The handle keeps no buffer of its
// own.
//
// Reads of one handle are served one at a time. The kernel sends the
// readahead requests of one file concurrently (two at a time, measured);
// served in parallel across a chunk boundary they would evict each other
// from the file's one-chunk cache and decrypt a chunk twice. Parallel
// readers open their own handles and stay parallel.
type handle struct {
	mu sync.Mutex
	f  vfs.File
	n  *node
}

var (
	_ gofs.FileReader   = (*handle)(nil)
	_ gofs.FileReleaser = (*handle)(nil)
)

// Read answers with the bytes read, or with an errno and no bytes at all
// when any part failed: a reader never gets data that was not verified.
func (h *handle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.mu.Lock()
	n, err := h.f.ReadAt(dest, off)
	h.mu.Unlock()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fail(h.n.snap.m.log, "read", h.n.path, err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

func (h *handle) Release(ctx context.Context) syscall.Errno {
	return errno(h.f.Close())
}
