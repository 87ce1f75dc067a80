package mount

import (
	"context"
	"io/fs"
	"slices"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// snapshot is what every node of one mounted snapshot shares.
type snapshot struct {
	id   string
	fsys vfs.FS
	m    *mounted
}

// node is one entry of a snapshot: its path and what Getattr, Readlink
// and the xattr calls answer, fixed at lookup (the snapshot never
// changes). Nodes are made on lookup and dropped when the kernel forgets
// them, so a walk over a large tree does not pin it in memory.
type node struct {
	gofs.Inode
	readOnly
	snap   *snapshot
	path   string
	attr   fuse.Attr
	target string
	xattrs map[string][]byte
}

var (
	_ gofs.NodeLookuper       = (*node)(nil)
	_ gofs.NodeGetattrer      = (*node)(nil)
	_ gofs.NodeReadlinker     = (*node)(nil)
	_ gofs.NodeGetxattrer     = (*node)(nil)
	_ gofs.NodeListxattrer    = (*node)(nil)
	_ gofs.NodeOpener         = (*node)(nil)
	_ gofs.NodeOpendirHandler = (*node)(nil)
	_ gofs.NodeStatfser       = (*node)(nil)
)

// newNode describes the entry at p from its Lstat info.
func (s *snapshot) newNode(p string, fi fs.FileInfo) (*node, syscall.Errno) {
	n := &node{snap: s, path: p}
	if fi.Mode()&fs.ModeSymlink != 0 {
		t, err := s.fsys.ReadLink(p)
		if err != nil {
			return nil, fail(s.m.log, "readlink", p, err)
		}
		n.target = t
	}
	sys := sysOf(fi)
	if sys != nil && len(sys.Xattrs) > 0 {
		n.xattrs = sys.Xattrs
	}
	fillAttr(&n.attr, ino(s.id, p, sys), fi, sys, n.target)
	if fi.IsDir() && (sys == nil || sys.Nlink == 0) {
		// The snapshot's root records no link count: a directory's is
		// 2 plus its subdirectories, as on the source.
		if sum, err := s.fsys.Summary(p); err == nil {
			n.attr.Nlink = uint32(2 + sum.Self.Dirs)
		}
	}
	return n, 0
}

// child adds n below parent and fills the kernel's entry.
func (parent *node) child(ctx context.Context, name string, n *node, out *fuse.EntryOut) *gofs.Inode {
	out.Attr = n.attr
	return parent.NewInode(ctx, n, gofs.StableAttr{Mode: n.attr.Mode & syscall.S_IFMT, Ino: n.attr.Ino})
}

func (n *node) childPath(name string) string {
	if n.path == "." {
		return name
	}
	return n.path + "/" + name
}

func (n *node) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	p := n.childPath(name)
	fi, err := n.snap.fsys.Lstat(p)
	if err != nil {
		return nil, fail(n.snap.m.log, "lookup", p, err)
	}
	c, e := n.snap.newNode(p, fi)
	if e != 0 {
		return nil, e
	}
	return n.child(ctx, name, c, out), 0
}

func (n *node) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Attr = n.attr
	return 0
}

// Readlink returns the target as stored: absolute, climbing out or
// dangling targets included, as the source showed them.
func (n *node) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	if n.attr.Mode&syscall.S_IFMT != syscall.S_IFLNK {
		return nil, syscall.EINVAL
	}
	return []byte(n.target), 0
}

func (n *node) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	v, ok := n.xattrs[attr]
	if !ok {
		return 0, syscall.ENODATA
	}
	if len(dest) < len(v) {
		return uint32(len(v)), syscall.ERANGE
	}
	return uint32(copy(dest, v)), 0
}

func (n *node) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	var size int
	names := make([]string, 0, len(n.xattrs))
	for k := range n.xattrs {
		names = append(names, k)
		size += len(k) + 1
	}
	if len(dest) < size {
		return uint32(size), syscall.ERANGE
	}
	slices.Sort(names)
	off := 0
	for _, k := range names {
		off += copy(dest[off:], k)
		dest[off] = 0
		off++
	}
	return uint32(off), 0
}

// Open opens a regular file for reading. Its pages may stay in the
// kernel's cache across opens (FOPEN_KEEP_CACHE): contents never change.
func (n *node) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&writeFlags != 0 {
		return nil, 0, syscall.EROFS
	}
	if n.attr.Mode&syscall.S_IFMT != syscall.S_IFREG {
		// FIFOs, sockets and devices are opened by the kernel without
		// asking; anything else that gets here has no contents to give.
		return nil, 0, syscall.EACCES
	}
	f, err := n.snap.fsys.Open(n.path)
	if err != nil {
		return nil, 0, fail(n.snap.m.log, "open", n.path, err)
	}
	vf, ok := f.(vfs.File)
	if !ok {
		f.Close()
		return nil, 0, syscall.EIO
	}
	return &handle{f: vf, n: n}, fuse.FOPEN_KEEP_CACHE, 0
}

func (n *node) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if n.attr.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return nil, 0, syscall.ENOTDIR
	}
	// The kernel may keep the listing: directories never change.
	return &dirHandle{n: n}, fuse.FOPEN_CACHE_DIR | fuse.FOPEN_KEEP_CACHE, 0
}

func (n *node) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}

// statfs describes a file system that is full and read-only: nothing can
// be written, and names are up to 255 bytes like on the sources.
func statfs(out *fuse.StatfsOut) {
	*out = fuse.StatfsOut{Bsize: 4096, Frsize: 4096, NameLen: 255}
}
