package dav

import (
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"golang.org/x/net/webdav"
)

// roFS is the read-only webdav.FileSystem over the tree.
type roFS struct{ t *tree }

var _ webdav.FileSystem = roFS{}

const writeFlags = os.O_WRONLY | os.O_RDWR | os.O_CREATE | os.O_TRUNC | os.O_APPEND | os.O_EXCL

func (roFS) Mkdir(context.Context, string, os.FileMode) error { return os.ErrPermission }
func (roFS) RemoveAll(context.Context, string) error          { return os.ErrPermission }
func (roFS) Rename(context.Context, string, string) error     { return os.ErrPermission }

func (f roFS) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	res, err := f.lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	return resInfo{res}, nil
}

func (f roFS) lookup(ctx context.Context, name string) (*resource, error) {
	if g, ok := ctx.Value(getKey{}).(*getReq); ok && strings.Trim(name, "/") == strings.Join(g.res.segs, "/") {
		return g.res, nil
	}
	var segs []string
	for _, s := range strings.Split(name, "/") {
		if s == "." || s == ".." || strings.ContainsRune(s, 0) {
			return nil, errBadPath
		}
		if s != "" {
			segs = append(segs, s)
		}
	}
	return f.t.resolve(ctx, segs)
}

func (f roFS) OpenFile(ctx context.Context, name string, flag int, _ os.FileMode) (webdav.File, error) {
	if flag&writeFlags != 0 {
		return nil, os.ErrPermission
	}
	res, err := f.lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	if res.dir {
		return &dirFile{t: f.t, ctx: ctx, res: res}, nil
	}
	file, err := res.fsys.Open(res.inner)
	if err != nil {
		return nil, err
	}
	rs, ok := file.(io.ReadSeeker)
	if !ok {
		file.Close()
		return nil, &fs.PathError{Op: "open", Path: res.inner, Err: fs.ErrInvalid}
	}
	rf := &regFile{f: file, rs: rs, res: res, st: &readState{}}
	if g, ok := ctx.Value(getKey{}).(*getReq); ok {
		rf.st = g.st
	}
	return rf, nil
}

// regFile is a regular file of a snapshot, recording its read errors.
type regFile struct {
	f   fs.File
	rs  io.ReadSeeker
	res *resource
	st  *readState
}

func (f *regFile) Read(p []byte) (int, error) {
	n, err := f.rs.Read(p)
	if err != nil && err != io.EOF {
		f.st.set(err)
	}
	return n, err
}

func (f *regFile) Seek(off int64, whence int) (int64, error) {
	n, err := f.rs.Seek(off, whence)
	if err != nil {
		f.st.set(err)
	}
	return n, err
}

func (f *regFile) Close() error               { return f.f.Close() }
func (f *regFile) Stat() (fs.FileInfo, error) { return resInfo{f.res}, nil }
func (f *regFile) Readdir(int) ([]fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "readdir", Path: f.res.inner, Err: fs.ErrInvalid}
}
func (f *regFile) Write([]byte) (int, error) { return 0, os.ErrPermission }

// dirFile is a collection; webdav.Handler only lists it for methods this
// package answers itself, so Readdir returns everything at once.
type dirFile struct {
	t    *tree
	ctx  context.Context
	res  *resource
	done bool
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.res.inner, Err: fs.ErrInvalid}
}
func (d *dirFile) Seek(int64, int) (int64, error) {
	return 0, &fs.PathError{Op: "seek", Path: d.res.inner, Err: fs.ErrInvalid}
}
func (d *dirFile) Write([]byte) (int, error)  { return 0, os.ErrPermission }
func (d *dirFile) Close() error               { return nil }
func (d *dirFile) Stat() (fs.FileInfo, error) { return resInfo{d.res}, nil }

func (d *dirFile) Readdir(count int) ([]fs.FileInfo, error) {
	if d.done {
		if count > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.done = true
	var out []fs.FileInfo
	err := d.t.children(d.ctx, d.res, func(c *resource) error {
		out = append(out, resInfo{c})
		return nil
	})
	return out, err
}

// resInfo is a resource as an os.FileInfo, with its content id as ETag.
type resInfo struct{ r *resource }

var (
	_ webdav.ETager       = resInfo{}
	_ webdav.ContentTyper = resInfo{}
)

func (i resInfo) Name() string       { return i.r.name }
func (i resInfo) Size() int64        { return i.r.size }
func (i resInfo) ModTime() time.Time { return i.r.mtime }
func (i resInfo) IsDir() bool        { return i.r.dir }
func (i resInfo) Sys() any           { return nil }
func (i resInfo) Mode() fs.FileMode {
	if i.r.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i resInfo) ETag(context.Context) (string, error) {
	if i.r.dir {
		return "", webdav.ErrNotImplemented
	}
	return i.r.etag, nil
}
func (i resInfo) ContentType(context.Context) (string, error) { return i.r.contentType(), nil }
