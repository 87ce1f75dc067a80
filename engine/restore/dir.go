package restore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

const listBatch = 256 // directory entries read at once

// mkdirRoot prepares the destination directory itself. Unlike the entries
// below it, it may be a symlink to a directory: the user named it.
func (r *restorer) mkdirRoot(dst string) error {
	st, err := os.Stat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.Mkdir(dst, 0o700)
	case err != nil:
		return err
	case !st.IsDir():
		return fmt.Errorf("%s: not a directory", dst)
	}
	return writable(dst, st)
}

// writable lets the owner write into a reused directory until its final
// mode is applied.
func writable(dst string, st fs.FileInfo) error {
	if st.Mode().Perm()&0o700 == 0o700 {
		return nil
	}
	return os.Chmod(dst, st.Mode().Perm()|0o700)
}

// mkdir creates dst, or reuses a directory already there. A symlink is
// never followed: with Overwrite it is replaced, else it is an error.
func (r *restorer) mkdir(dst string) error {
	err := os.Mkdir(dst, 0o700)
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	st, err := os.Lstat(dst)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return writable(dst, st)
	case !r.o.Overwrite:
		return &fs.PathError{Op: "mkdir", Path: dst, Err: fs.ErrExist}
	}
	if err := os.Remove(dst); err != nil {
		return err
	}
	return os.Mkdir(dst, 0o700)
}

// dir restores a directory and its content; its metadata is applied by
// finishDirs, after everything else.
func (r *restorer) dir(src, dst string, info fs.FileInfo) {
	if dst != r.base {
		if err := r.mkdir(dst); err != nil {
			r.fail(src, err)
			return
		}
	}
	r.count(func(rep *Report) { rep.Dirs++ })
	r.dirs = append(r.dirs, pendingDir{src: src, dst: dst, info: info})
	if err := r.children(src, dst); err != nil {
		r.fail(src, err)
	}
}

// children restores the entries of directory src into dst, reading the
// listing in batches so that a huge directory is never held whole.
func (r *restorer) children(src, dst string) error {
	f, err := r.read.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return &fs.PathError{Op: "readdir", Path: src, Err: errors.New("not a directory")}
	}
	for r.ctx.Err() == nil {
		entries, err := d.ReadDir(listBatch)
		for _, e := range entries {
			r.child(src, dst, e)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *restorer) child(src, dst string, e fs.DirEntry) {
	name := e.Name()
	csrc := path.Join(src, name)
	if !validName(name) {
		r.fail(csrc, fmt.Errorf("invalid name %q: %w", name, ErrEscapes))
		return
	}
	info, err := e.Info()
	if err != nil {
		r.fail(csrc, err)
		return
	}
	r.entry(csrc, filepath.Join(dst, name), info)
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// finishDirs applies directory metadata children first: the reverse of the
// creation order, which is a pre-order.
func (r *restorer) finishDirs() {
	for i := len(r.dirs) - 1; i >= 0; i-- {
		d := r.dirs[i]
		if err := r.setMeta(d.dst, d.info); err != nil {
			r.fail(d.src, err)
		}
	}
	r.dirs = nil
}
