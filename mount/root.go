package mount

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// mounted is the state of one mount that every node reaches.
type mounted struct {
	ctx     context.Context // storage reads of the whole mount
	cat     vfs.Catalog
	log     *slog.Logger
	refresh time.Duration
}

// rootNode is the mount's root: a snap-<short id> directory per snapshot
// and a <job>-latest symlink per job. Its listing is the catalog's, asked
// again when older than the refresh interval, so snapshots appear and
// disappear without remounting; the kernel is told to keep root entries
// for a second only.
type rootNode struct {
	gofs.Inode
	readOnly
	m *mounted

	mu      sync.Mutex // held while asking the catalog: callers share one answer
	at      time.Time
	entries map[string]rootEntry
	names   []string // listing order: snapshots newest first, then aliases
	newest  time.Time
}

// rootEntry is a snapshot directory (target empty) or a job alias.
type rootEntry struct {
	info   vfs.SnapshotInfo
	target string
}

var (
	_ gofs.NodeLookuper       = (*rootNode)(nil)
	_ gofs.NodeGetattrer      = (*rootNode)(nil)
	_ gofs.NodeReaddirer      = (*rootNode)(nil)
	_ gofs.NodeOpendirHandler = (*rootNode)(nil)
	_ gofs.NodeStatfser       = (*rootNode)(nil)
)

func newRoot(ctx context.Context, cat vfs.Catalog, o Options) *rootNode {
	return &rootNode{m: &mounted{ctx: ctx, cat: cat, log: o.Logger, refresh: o.Refresh}}
}

// list returns the root's entries, asking the catalog at most once per
// refresh interval.
func (r *rootNode) list(ctx context.Context) (map[string]rootEntry, []string, syscall.Errno) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries != nil && time.Since(r.at) < r.m.refresh {
		return r.entries, r.names, 0
	}
	snaps, err := r.m.cat.Snapshots(ctx)
	if err != nil {
		if r.entries != nil {
			r.m.log.Error("mount: listing snapshots; showing the previous list", "err", err)
			return r.entries, r.names, 0
		}
		return nil, nil, fail(r.m.log, "snapshots", "/", err)
	}
	r.entries, r.names, r.newest = rootListing(snaps)
	r.at = time.Now()
	return r.entries, r.names, 0
}

// rootListing names the snapshots (newest first, as the catalog gives
// them) and the newest snapshot of each job.
func rootListing(snaps []vfs.SnapshotInfo) (map[string]rootEntry, []string, time.Time) {
	entries := make(map[string]rootEntry, len(snaps))
	var names, aliases []string
	var newest time.Time
	for _, s := range snaps {
		name := "snap-" + s.ShortID()
		if _, dup := entries[name]; dup {
			continue // a 12-hex collision: the newest keeps the name
		}
		entries[name] = rootEntry{info: s}
		names = append(names, name)
		if s.Time.After(newest) {
			newest = s.Time
		}
	}
	for _, s := range snaps {
		alias := s.Job + "-latest"
		if s.Job == "" || strings.ContainsAny(s.Job, "/\x00") {
			continue
		}
		if _, taken := entries[alias]; taken {
			continue // newest first: the first one seen is the job's latest
		}
		entries[alias] = rootEntry{info: s, target: "snap-" + s.ShortID()}
		aliases = append(aliases, alias)
	}
	return entries, append(names, aliases...), newest
}

func (r *rootNode) Getattr(ctx context.Context, f gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	_, names, e := r.list(ctx)
	if e != 0 {
		return e
	}
	r.mu.Lock()
	newest := r.newest
	r.mu.Unlock()
	out.Attr = fuse.Attr{Ino: rootIno, Mode: syscall.S_IFDIR | 0o555, Nlink: uint32(2 + len(names))}
	setTime(&out.Attr, newest)
	out.SetTimeout(rootTimeout)
	return 0
}

func (r *rootNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	entries, _, e := r.list(ctx)
	if e != 0 {
		return nil, e
	}
	ent, ok := entries[name]
	if !ok {
		// Not cached by the kernel: the name may be a snapshot that is
		// about to appear.
		out.SetEntryTimeout(rootTimeout)
		return nil, syscall.ENOENT
	}
	out.SetEntryTimeout(rootTimeout)
	out.SetAttrTimeout(rootTimeout)
	if ent.target != "" {
		return r.alias(ctx, name, ent, out), 0
	}
	return r.snapshotDir(ctx, name, ent.info, out)
}

// alias is a job's <job>-latest symlink. Its inode number follows its
// target, so a kernel that cached the old link sees a new inode.
func (r *rootNode) alias(ctx context.Context, name string, ent rootEntry, out *fuse.EntryOut) *gofs.Inode {
	n := &node{target: ent.target}
	n.attr = fuse.Attr{Ino: tagIno("alias", name, ent.info.ID), Mode: syscall.S_IFLNK | 0o777, Nlink: 1, Size: uint64(len(ent.target))}
	setTime(&n.attr, ent.info.Time)
	out.Attr = n.attr
	return r.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFLNK, Ino: n.attr.Ino})
}

// snapshotDir is a snapshot's root directory. The snapshot is opened on
// the first lookup and stays open while the kernel knows the directory.
func (r *rootNode) snapshotDir(ctx context.Context, name string, info vfs.SnapshotInfo, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if c := r.GetChild(name); c != nil {
		if n, ok := c.Operations().(*node); ok && n.snap != nil && n.snap.id == info.ID {
			out.Attr = n.attr
			return c, 0
		}
	}
	fsys, err := r.m.cat.OpenSnapshot(r.m.ctx, info.ID)
	if err != nil {
		return nil, fail(r.m.log, "open snapshot", name, err)
	}
	s := &snapshot{id: info.ID, fsys: fsys, m: r.m}
	fi, err := fsys.Stat(".")
	if err != nil {
		return nil, fail(r.m.log, "stat", name, err)
	}
	n, e := s.newNode(".", fi)
	if e != 0 {
		return nil, e
	}
	out.Attr = n.attr
	return r.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: n.attr.Ino}), 0
}

// Readdir lists the root from the catalog; the listing is small (one
// entry per snapshot and job).
func (r *rootNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	entries, names, e := r.list(ctx)
	if e != 0 {
		return nil, e
	}
	out := make([]fuse.DirEntry, 0, len(names))
	for _, name := range names {
		ent := entries[name]
		de := fuse.DirEntry{Name: name, Mode: syscall.S_IFDIR, Ino: ino(ent.info.ID, ".", nil)}
		if ent.target != "" {
			de.Mode, de.Ino = syscall.S_IFLNK, tagIno("alias", name, ent.info.ID)
		}
		out = append(out, de)
	}
	return gofs.NewListDirStream(out), 0
}

// OpendirHandle keeps the kernel from caching the root's listing, which
// changes as snapshots come and go.
func (r *rootNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	ds, e := r.Readdir(ctx)
	if e != 0 {
		return nil, 0, e
	}
	return ds, 0, 0
}

func (r *rootNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfs(out)
	return 0
}
