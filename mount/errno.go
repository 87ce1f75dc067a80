package mount

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"syscall"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// errno maps an error of the read interface to the errno a FUSE reply
// carries; it is the one place where that translation happens. Anything
// unexpected, an integrity failure included, is EIO: the reader gets an
// error, never bytes that were not verified.
func errno(err error) syscall.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	case errors.Is(err, vfs.ErrCorrupt):
		return syscall.EIO
	case errors.Is(err, fs.ErrInvalid):
		return syscall.EINVAL
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return syscall.EINTR
	}
	return syscall.EIO
}

// fail logs err when it is worth an operator's attention and returns its
// errno.
func fail(log *slog.Logger, op, path string, err error) syscall.Errno {
	e := errno(err)
	if e != syscall.ENOENT && e != syscall.EINTR {
		log.Error("mount: "+op, "path", path, "err", err)
	}
	return e
}
