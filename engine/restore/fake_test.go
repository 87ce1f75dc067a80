package restore

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// fakeFS is a vfs.FS over a local directory, with knobs: perms replaces the
// permission bits the snapshot records for a path (so a source that stays
// readable can claim 0000), corrupt makes a file's content fail with
// vfs.ErrCorrupt halfway, and extra adds made-up entries to a directory.
type fakeFS struct {
	dir     fs.FS
	perms   map[string]fs.FileMode
	corrupt map[string]bool
	extra   map[string][]fs.DirEntry
	xattrs  map[string]map[string][]byte
}

var _ vfs.FS = (*fakeFS)(nil)

func newFake(root string) *fakeFS {
	return &fakeFS{dir: os.DirFS(root), perms: map[string]fs.FileMode{},
		corrupt: map[string]bool{}, extra: map[string][]fs.DirEntry{}, xattrs: map[string]map[string][]byte{}}
}

// info makes what the engine would return: a *vfs.Sys and recorded modes.
type info struct {
	fs.FileInfo
	mode fs.FileMode
	sys  *vfs.Sys
}

func (i *info) Mode() fs.FileMode { return i.mode }
func (i *info) Sys() any          { return i.sys }

func (f *fakeFS) wrap(name string, fi fs.FileInfo) fs.FileInfo {
	mode := fi.Mode()
	if p, ok := f.perms[name]; ok {
		mode = mode&^(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) | p
	}
	st := fi.Sys().(*syscall.Stat_t)
	sys := &vfs.Sys{UID: st.Uid, GID: st.Gid, Nlink: uint32(st.Nlink), Rdev: st.Rdev, Xattrs: f.xattrs[name]}
	if st.Nlink > 1 && !fi.IsDir() {
		sys.Inode = st.Ino
	}
	return &info{FileInfo: fi, mode: mode, sys: sys}
}

func (f *fakeFS) Lstat(name string) (fs.FileInfo, error) {
	fi, err := fs.Lstat(f.dir, name)
	if err != nil {
		return nil, err
	}
	return f.wrap(name, fi), nil
}

func (f *fakeFS) Stat(name string) (fs.FileInfo, error) {
	fi, err := fs.Stat(f.dir, name)
	if err != nil {
		return nil, err
	}
	return f.wrap(name, fi), nil
}

func (f *fakeFS) ReadLink(name string) (string, error) { return fs.ReadLink(f.dir, name) }

func (f *fakeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return nil, fmt.Errorf("restore must list directories through Open")
}

func (f *fakeFS) Open(name string) (fs.File, error) {
	file, err := f.dir.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err == nil && st.IsDir() {
		d := file.(fs.ReadDirFile)
		return &dirFile{ReadDirFile: d, fsys: f, name: name, extra: f.extra[name]}, nil
	}
	if f.corrupt[name] {
		return &badFile{File: file}, nil
	}
	return file, nil
}

type dirFile struct {
	fs.ReadDirFile
	fsys  *fakeFS
	name  string
	extra []fs.DirEntry
}

func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	list, err := d.ReadDirFile.ReadDir(n)
	out := append([]fs.DirEntry(nil), d.extra...)
	d.extra = nil
	for _, e := range list {
		out = append(out, &dirEntry{DirEntry: e, fsys: d.fsys, path: path.Join(d.name, e.Name())})
	}
	if len(out) > 0 && err == io.EOF {
		err = nil
	}
	return out, err
}

type dirEntry struct {
	fs.DirEntry
	fsys *fakeFS
	path string
}

func (e *dirEntry) Info() (fs.FileInfo, error) { return e.fsys.Lstat(e.path) }

// badFile returns a few bytes, then an integrity error.
type badFile struct {
	fs.File
	done bool
}

func (b *badFile) Read(p []byte) (int, error) {
	if b.done || len(p) < 3 {
		return 0, &fs.PathError{Op: "read", Path: "x", Err: vfs.ErrCorrupt}
	}
	b.done = true
	return copy(p, "bad"), nil
}

func (f *fakeFS) WithContext(ctx context.Context) fs.FS { return f }
func (f *fakeFS) Summary(dir string) (vfs.Summary, error) {
	return vfs.Summary{}, nil
}
func (f *fakeFS) Errors(dir string) iter.Seq2[vfs.PathError, error] {
	return func(func(vfs.PathError, error) bool) {}
}
func (f *fakeFS) Walk(ctx context.Context, after string) iter.Seq2[vfs.Entry, error] {
	return func(func(vfs.Entry, error) bool) {}
}

// madeUp is an injected entry that exists only in the listing.
type madeUp struct {
	name string
	mode fs.FileMode
	sys  *vfs.Sys
}

func (m *madeUp) Name() string               { return m.name }
func (m *madeUp) IsDir() bool                { return m.mode.IsDir() }
func (m *madeUp) Type() fs.FileMode          { return m.mode.Type() }
func (m *madeUp) Info() (fs.FileInfo, error) { return m, nil }
func (m *madeUp) Size() int64                { return 0 }
func (m *madeUp) Mode() fs.FileMode          { return m.mode }
func (m *madeUp) ModTime() time.Time         { return time.Unix(1e9, 0) }
func (m *madeUp) Sys() any                   { return m.sys }
