package restore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

const bufSize = 1 << 20

var bufs = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// file streams a regular file's content into a new file. Any read error,
// or a length that differs from the recorded size, removes the file: a
// restored file has the snapshot's bytes or does not exist.
func (r *restorer) file(src, dst string, info fs.FileInfo) error {
	in, err := r.read.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	bp := bufs.Get().(*[]byte)
	defer bufs.Put(bp)
	// The wrappers hide ReaderFrom/WriterTo so the 1 MiB buffer is used.
	n, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, *bp)
	if err == nil && n != info.Size() {
		err = fmt.Errorf("content is %d bytes, the snapshot records %d", n, info.Size())
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return err
	}
	r.count(func(rep *Report) { rep.Files++; rep.Bytes += n })
	return nil
}

// special creates a fifo or a device node.
func (r *restorer) special(dst string, info fs.FileInfo) error {
	mode := info.Mode()
	var err error
	switch {
	case mode&fs.ModeNamedPipe != 0:
		err = unix.Mkfifo(dst, 0o600)
	case mode&fs.ModeDevice != 0:
		err = r.mknod(dst, info)
	default:
		err = fmt.Errorf("unsupported file type %s", mode.Type())
	}
	if err != nil {
		return &fs.PathError{Op: "create", Path: dst, Err: err}
	}
	r.count(func(rep *Report) { rep.Others++ })
	return nil
}

func (r *restorer) mknod(dst string, info fs.FileInfo) error {
	typ := uint32(unix.S_IFBLK)
	if info.Mode()&fs.ModeCharDevice != 0 {
		typ = unix.S_IFCHR
	}
	var rdev uint64
	if s := sysOf(info); s != nil {
		rdev = s.Rdev
	}
	err := unix.Mknod(dst, typ|0o600, int(rdev))
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("device node: %w (creating devices needs privileges)", err)
	}
	return err
}

// setMeta applies ownership (as root), mode, xattrs (best effort) and
// times, in that order: chown clears setuid bits, and setting attributes
// must not disturb the times. Symlinks keep their own mode and are never
// followed.
func (r *restorer) setMeta(dst string, info fs.FileInfo) error {
	sys := sysOf(info)
	link := info.Mode()&fs.ModeSymlink != 0
	var errs []error
	if r.root && !r.o.NoOwner && sys != nil {
		errs = append(errs, os.Lchown(dst, int(sys.UID), int(sys.GID)))
	}
	if !link {
		errs = append(errs, os.Chmod(dst, info.Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)))
	}
	if !r.o.NoXattrs && sys != nil {
		for name, value := range sys.Xattrs {
			_ = unix.Lsetxattr(dst, name, value, 0) // best effort
		}
	}
	ts := unix.NsecToTimespec(info.ModTime().UnixNano())
	err := unix.UtimesNanoAt(unix.AT_FDCWD, dst, []unix.Timespec{ts, ts}, unix.AT_SYMLINK_NOFOLLOW)
	if err != nil {
		errs = append(errs, &fs.PathError{Op: "utimes", Path: dst, Err: err})
	}
	return errors.Join(errs...)
}
