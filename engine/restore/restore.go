// Package restore owns writing a snapshot (or part of one) back to a local
// directory: files, directories, symlinks, hardlinks, fifos and devices,
// then their modes, times, ownership and extended attributes. It reads only
// through the vfs.FS interface, so it restores from anything that
// implements it, and it never follows a symlink, neither in the snapshot
// nor in the destination.
//
// Errors about one entry (a device that may not be created, content that
// fails its integrity check) are collected in the Report and the restore
// goes on; a file whose content could not be read completely is removed,
// never left with wrong bytes. Directory modes and times are applied last,
// children before parents, so a read-only directory still receives its
// content and hardlinks into it can still be made.
package restore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options tune a restore.
type Options struct {
	// Overwrite replaces existing non-directory entries of the destination.
	// Without it such an entry is reported as an error and left alone.
	// Existing directories are always reused.
	Overwrite bool
	// NoOwner skips ownership even when running as root.
	NoOwner bool
	// NoXattrs skips extended attributes.
	NoXattrs bool
	// Progress, when set, is called after each entry is restored. It may be
	// called from several goroutines at once.
	Progress func(path string, size int64)
	// Workers is how many files are written at once; default 4. Fetching
	// and decrypting chunks is latency- and CPU-bound, so one file at a
	// time leaves both the disk and the cores idle.
	Workers int
}

// Report says what a restore did.
type Report struct {
	Files, Dirs, Symlinks, Hardlinks, Others int
	Bytes                                    int64
	// Skipped lists snapshot paths that cannot be restored by design (sockets).
	Skipped []string
	// Errors lists the entries that were not (fully) restored.
	Errors []*EntryError
}

// EntryError is the failure of one entry; the restore went on.
type EntryError struct {
	Path string // path within the snapshot (io/fs form)
	Err  error
}

func (e *EntryError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *EntryError) Unwrap() error { return e.Err }

// ErrEscapes reports a destination path outside the destination directory.
var ErrEscapes = errors.New("path escapes the destination")

// Restore writes src (an io/fs path of fsys, "." for the root) to dst. A
// directory src becomes the directory dst (created if missing, reused if
// it exists). A non-directory src is written to dst/<base name> when dst is
// an existing directory, else to dst. The error is nil unless the restore
// could not run at all (src missing, dst unusable, ctx done); per-entry
// failures are in Report.Errors.
func Restore(ctx context.Context, fsys vfs.FS, src, dst string, o Options) (Report, error) {
	r := newRestorer(ctx, fsys, o)
	if !fs.ValidPath(src) {
		return r.rep, &fs.PathError{Op: "restore", Path: src, Err: fs.ErrInvalid}
	}
	info, err := fsys.Lstat(src)
	if err != nil {
		return r.rep, err
	}
	dst, err = filepath.Abs(dst)
	if err != nil {
		return r.rep, err
	}
	if !info.IsDir() {
		if st, err := os.Stat(dst); err == nil && st.IsDir() {
			dst = filepath.Join(dst, path.Base(src))
		}
		r.base = filepath.Dir(dst)
	} else {
		r.base = dst
		if err := r.mkdirRoot(dst); err != nil {
			return r.rep, err
		}
	}
	r.entry(src, dst, info)
	r.files.Wait()
	r.finishDirs()
	return r.rep, ctx.Err()
}

// restorer is the state of one restore. One goroutine walks the tree;
// regular files are written by up to o.Workers goroutines, so rep is
// guarded by mu.
type restorer struct {
	mu    sync.Mutex
	files sync.WaitGroup
	slots chan struct{}
	ctx   context.Context
	fsys  vfs.FS
	read  fs.FS // fsys bound to ctx, for content and listings
	o     Options
	rep   Report
	base  string            // nothing may be written outside it
	links map[uint64]string // hardlink group -> first restored path
	dirs  []pendingDir      // in creation order; metadata applied in reverse
	root  bool              // running as root: chown and mknod are possible
}

type pendingDir struct {
	src, dst string
	info     fs.FileInfo
}

func newRestorer(ctx context.Context, fsys vfs.FS, o Options) *restorer {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	return &restorer{ctx: ctx, fsys: fsys, read: fsys.WithContext(ctx), o: o,
		links: map[uint64]string{}, root: os.Geteuid() == 0, slots: make(chan struct{}, o.Workers)}
}

func (r *restorer) fail(src string, err error) {
	r.count(func(rep *Report) { rep.Errors = append(rep.Errors, &EntryError{Path: src, Err: err}) })
}

// count updates the report under the lock.
func (r *restorer) count(fn func(rep *Report)) {
	r.mu.Lock()
	fn(&r.rep)
	r.mu.Unlock()
}

// within checks that p is base or below it.
func (r *restorer) within(p string) error {
	rel, err := filepath.Rel(r.base, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("%s: %w", p, ErrEscapes)
	}
	return nil
}

// entry restores one entry of any type, and a directory's content.
func (r *restorer) entry(src, dst string, info fs.FileInfo) {
	if r.ctx.Err() != nil {
		return
	}
	if err := r.within(dst); err != nil {
		r.fail(src, err)
		return
	}
	if info.IsDir() {
		r.dir(src, dst, info)
		return
	}
	if info.Mode()&fs.ModeSocket != 0 {
		r.count(func(rep *Report) { rep.Skipped = append(rep.Skipped, src) })
		return
	}
	if info.Mode().IsRegular() && inode(info) == 0 {
		r.async(src, dst, info)
		return
	}
	r.restored(src, info, r.nonDir(src, dst, info))
}

func (r *restorer) restored(src string, info fs.FileInfo, err error) {
	if err != nil {
		r.fail(src, err)
		return
	}
	if r.o.Progress != nil {
		r.o.Progress(src, info.Size())
	}
}

// async writes a regular file that is not a hardlink on a worker; hardlinked
// files stay on the walking goroutine, which links later names to them.
func (r *restorer) async(src, dst string, info fs.FileInfo) {
	select {
	case r.slots <- struct{}{}:
	case <-r.ctx.Done():
		return
	}
	r.files.Add(1)
	go func() {
		defer func() { <-r.slots; r.files.Done() }()
		r.restored(src, info, r.nonDir(src, dst, info))
	}()
}

// nonDir restores a file, symlink, fifo or device, or a hardlink to one.
func (r *restorer) nonDir(src, dst string, info fs.FileInfo) error {
	if err := r.clear(dst); err != nil {
		return err
	}
	if done, err := r.hardlink(dst, info); done || err != nil {
		return err
	}
	var err error
	switch mode := info.Mode(); {
	case mode.IsRegular():
		err = r.file(src, dst, info)
	case mode&fs.ModeSymlink != 0:
		err = r.symlink(src, dst)
	default:
		err = r.special(dst, info)
	}
	if err != nil {
		return err
	}
	r.rememberLink(dst, info)
	return r.setMeta(dst, info)
}

// clear makes room for a non-directory at dst: nothing there, or (with
// Overwrite) a non-directory that is removed, never followed.
func (r *restorer) clear(dst string) error {
	st, err := os.Lstat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s: a directory is in the way", dst)
	case !r.o.Overwrite:
		return &fs.PathError{Op: "create", Path: dst, Err: fs.ErrExist}
	}
	return os.Remove(dst)
}

// hardlink links dst to the first restored member of its hardlink group.
func (r *restorer) hardlink(dst string, info fs.FileInfo) (bool, error) {
	id := inode(info)
	if id == 0 {
		return false, nil
	}
	first, ok := r.links[id]
	if !ok {
		return false, nil
	}
	if err := os.Link(first, dst); err != nil {
		return true, err
	}
	r.count(func(rep *Report) { rep.Hardlinks++ })
	return true, nil
}

func (r *restorer) rememberLink(dst string, info fs.FileInfo) {
	if id := inode(info); id != 0 {
		r.links[id] = dst
	}
}

func (r *restorer) symlink(src, dst string) error {
	target, err := r.fsys.ReadLink(src)
	if err != nil {
		return err
	}
	if err := os.Symlink(target, dst); err != nil {
		return err
	}
	r.count(func(rep *Report) { rep.Symlinks++ })
	return nil
}

func sysOf(info fs.FileInfo) *vfs.Sys {
	s, _ := info.Sys().(*vfs.Sys)
	return s
}

func inode(info fs.FileInfo) uint64 {
	if s := sysOf(info); s != nil {
		return s.Inode
	}
	return 0
}
