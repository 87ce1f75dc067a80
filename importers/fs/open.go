package fs

import (
	"context"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Open opens the regular file at p (a path as yielded by Scan) for reading.
// The path is resolved one component at a time from the root directory
// with O_NOFOLLOW, so a symlink anywhere in it (including one swapped in
// after the scan) makes Open fail instead of leaving the tree. Paths that
// are not clean and absolute, or that hold "..", fail with an error
// wrapping fs.ErrInvalid; so does anything that is not a regular file
// (opening a FIFO must not block the engine). The result is an *os.File.
func (imp *Importer) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	parts, err := splitPath(p)
	if err != nil {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: err}
	}
	var fd int
	ctlErr := imp.rawDir.Control(func(dirfd uintptr) {
		fd, err = openBeneath(int(dirfd), parts)
	})
	if ctlErr != nil {
		// Control fails only once Close has closed the root; its error
		// (internal/poll's "use of closed file") does not match os.ErrClosed.
		return nil, &iofs.PathError{Op: "open", Path: p, Err: os.ErrClosed}
	}
	if err != nil {
		return nil, &iofs.PathError{Op: "open", Path: p, Err: err}
	}
	return os.NewFile(uintptr(fd), imp.osPath(p)), nil
}

// splitPath validates a source path and returns its components.
func splitPath(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return nil, fmt.Errorf("%w: path must be clean and absolute", iofs.ErrInvalid)
	}
	if p == "/" {
		return nil, errNotRegular
	}
	parts := strings.Split(p[1:], "/")
	for _, part := range parts {
		if part == ".." { // Clean already removes these; keep the guard explicit
			return nil, fmt.Errorf("%w: path must not contain ..", iofs.ErrInvalid)
		}
	}
	return parts, nil
}

var errNotRegular = fmt.Errorf("%w: not a regular file", iofs.ErrInvalid)

const openFlags = unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_NOCTTY

// noOpenat2 is set once the kernel (or a seccomp filter) refuses openat2.
var noOpenat2 atomic.Bool

// openBeneath opens parts below dirfd, refusing symlinks at every step. On
// Linux 5.6+ that is one openat2 call with RESOLVE_BENEATH|NO_SYMLINKS;
// elsewhere a walk one component at a time, intermediate directories opened
// with O_PATH (like a kernel path walk, they then need only search
// permission, not read permission).
func openBeneath(dirfd int, parts []string) (int, error) {
	if !noOpenat2.Load() {
		how := &unix.OpenHow{Flags: uint64(openFlags | unix.O_RDONLY | unix.O_NONBLOCK),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS}
		fd, err := openat2(dirfd, strings.Join(parts, "/"), how)
		if err != unix.ENOSYS && err != unix.EPERM {
			if err != nil {
				return -1, err
			}
			return fd, finishOpen(fd)
		}
		noOpenat2.Store(true)
	}
	return walkBeneath(dirfd, parts)
}

func openat2(dirfd int, name string, how *unix.OpenHow) (int, error) {
	for {
		fd, err := unix.Openat2(dirfd, name, how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// finishOpen closes fd unless it is a regular file.
func finishOpen(fd int) error {
	if err := checkRegular(fd); err != nil {
		unix.Close(fd)
		return err
	}
	return nil
}

func walkBeneath(dirfd int, parts []string) (int, error) {
	const common = openFlags
	fd := dirfd
	for i, name := range parts {
		flags := common | unix.O_PATH | unix.O_DIRECTORY
		if i == len(parts)-1 {
			flags = common | unix.O_RDONLY | unix.O_NONBLOCK
		}
		next, err := openat(fd, name, flags)
		if fd != dirfd {
			unix.Close(fd)
		}
		if err != nil {
			return -1, err
		}
		fd = next
	}
	if err := checkRegular(fd); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func openat(dirfd int, name string, flags int) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// checkRegular accepts only regular files, then clears the O_NONBLOCK
// that made opening a FIFO safe, so reads behave normally.
func checkRegular(fd int) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errNotRegular
	}
	return unix.SetNonblock(fd, false)
}

// prefetchMax bounds what Prefetch asks for: a small file whole, the start
// of a big one (from there the kernel's read-ahead follows the reader).
const prefetchMax = 1 << 20

// Prefetch asks the kernel to start reading the first bytes of the file at
// p in the background, so that the reader which opens it later finds them
// in the page cache instead of waiting on the disk. The file is opened
// exactly as Open does, so nothing outside the tree is touched.
func (imp *Importer) Prefetch(p string, size int64) {
	parts, err := splitPath(p)
	if err != nil || size <= 0 {
		return
	}
	var fd int
	if imp.rawDir.Control(func(dirfd uintptr) { fd, err = openBeneath(int(dirfd), parts) }) != nil || err != nil {
		return
	}
	unix.Fadvise(fd, 0, min(size, prefetchMax), unix.FADV_WILLNEED)
	unix.Close(fd)
}
