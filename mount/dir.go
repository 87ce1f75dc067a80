package mount

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// batch is how many entries a directory listing fetches at a time: a
// 100,000-entry directory is streamed, never held whole.
const batch = 512

// dirHandle streams an open directory of a snapshot from the tree, a
// batch at a time. Offsets are entry positions (1 is after the first), so
// a seek back restarts and skips, which the kernel asks for only after an
// interrupted or rewound listing.
type dirHandle struct {
	n    *node
	dir  fs.ReadDirFile
	buf  []fs.DirEntry
	pos  uint64 // entries handed out
	last fs.DirEntry
	eof  bool
}

var (
	_ gofs.FileReaddirenter = (*dirHandle)(nil)
	_ gofs.FileLookuper     = (*dirHandle)(nil)
	_ gofs.FileSeekdirer    = (*dirHandle)(nil)
	_ gofs.FileReleasedirer = (*dirHandle)(nil)
)

func (d *dirHandle) open() syscall.Errno {
	f, err := d.n.snap.fsys.Open(d.n.path)
	if err != nil {
		return fail(d.n.snap.m.log, "opendir", d.n.path, err)
	}
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		f.Close()
		return syscall.ENOTDIR
	}
	d.dir, d.buf, d.pos, d.eof, d.last = rd, nil, 0, false, nil
	return 0
}

func (d *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if d.dir == nil {
		if e := d.open(); e != 0 {
			return nil, e
		}
	}
	if len(d.buf) == 0 && !d.eof {
		var err error
		d.buf, err = d.dir.ReadDir(batch)
		if errors.Is(err, io.EOF) || (err == nil && len(d.buf) == 0) {
			d.eof = true
		} else if err != nil {
			return nil, fail(d.n.snap.m.log, "readdir", d.n.path, err)
		}
	}
	if len(d.buf) == 0 {
		return nil, 0
	}
	de := d.buf[0]
	d.buf = d.buf[1:]
	d.pos++
	d.last = de
	fi, err := de.Info()
	if err != nil {
		return nil, fail(d.n.snap.m.log, "readdir", d.n.childPath(de.Name()), err)
	}
	return &fuse.DirEntry{
		Name: de.Name(),
		Mode: unixMode(fi.Mode()) & syscall.S_IFMT,
		Ino:  ino(d.n.snap.id, d.n.childPath(de.Name()), sysOf(fi)),
		Off:  d.pos,
	}, 0
}

// Lookup answers READDIRPLUS for the entry just listed from the info the
// listing already holds, instead of walking the tree again.
func (d *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if d.last == nil || d.last.Name() != name {
		return d.n.Lookup(ctx, name, out)
	}
	if c := d.n.GetChild(name); c != nil {
		if cn, ok := c.Operations().(*node); ok {
			out.Attr = cn.attr
			return c, 0
		}
	}
	fi, err := d.last.Info()
	if err != nil {
		return nil, fail(d.n.snap.m.log, "lookup", d.n.childPath(name), err)
	}
	c, e := d.n.snap.newNode(d.n.childPath(name), fi)
	if e != 0 {
		return nil, e
	}
	return d.n.child(ctx, name, c, out), 0
}

func (d *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if d.dir != nil && off == d.pos {
		return 0
	}
	d.Releasedir(ctx, 0)
	if e := d.open(); e != 0 {
		return e
	}
	for d.pos < off {
		de, e := d.Readdirent(ctx)
		if e != 0 {
			return e
		}
		if de == nil {
			break
		}
	}
	return 0
}

func (d *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	if d.dir != nil {
		d.dir.Close()
		d.dir = nil
	}
}
