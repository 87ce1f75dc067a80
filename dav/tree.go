package dav

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// tree maps WebDAV paths to snapshots and their entries. The list of
// snapshots is read at most once per ttl; snapshots never change once
// written, so an opened one is kept (a bounded number of them).
type tree struct {
	cat vfs.Catalog
	ttl time.Duration

	mu     sync.Mutex
	listed time.Time
	roots  []root
	byName map[string]root
	open   map[string]vfs.FS // by snapshot id
}

// root is one top-level collection: a snapshot under one of its names.
type root struct {
	name string
	id   string
	time time.Time
}

const maxOpen = 256

func newTree(cat vfs.Catalog, ttl time.Duration) *tree {
	return &tree{cat: cat, ttl: ttl, open: map[string]vfs.FS{}}
}

// list returns the top-level collections: snap-<12 hex> for every snapshot
// and <job>-latest for every job's newest one.
func (t *tree) list(ctx context.Context) ([]root, map[string]root, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byName != nil && time.Since(t.listed) < t.ttl {
		return t.roots, t.byName, nil
	}
	snaps, err := t.cat.Snapshots(ctx)
	if err != nil {
		return nil, nil, err
	}
	var roots []root
	byName := map[string]root{}
	add := func(r root) {
		if _, dup := byName[r.name]; !dup { // newest first: the first wins
			byName[r.name] = r
			roots = append(roots, r)
		}
	}
	for _, s := range snaps {
		add(root{name: "snap-" + s.ShortID(), id: s.ID, time: s.Time})
	}
	for _, s := range snaps {
		if s.Job != "" && !strings.ContainsAny(s.Job, "/\x00") {
			add(root{name: s.Job + "-latest", id: s.ID, time: s.Time})
		}
	}
	t.roots, t.byName, t.listed = roots, byName, time.Now()
	return roots, byName, nil
}

// snapshot returns a view of the snapshot with that id whose reads stop
// with ctx.
func (t *tree) snapshot(ctx context.Context, id string) (fs.FS, error) {
	t.mu.Lock()
	f, ok := t.open[id]
	t.mu.Unlock()
	if !ok {
		var err error
		// Opened without the request's context: it outlives the request.
		if f, err = t.cat.OpenSnapshot(context.Background(), id); err != nil {
			return nil, err
		}
		t.mu.Lock()
		if len(t.open) >= maxOpen {
			clear(t.open)
		}
		t.open[id] = f
		t.mu.Unlock()
	}
	return f.WithContext(ctx), nil
}

// resource is what a path names: the root, a snapshot's top, or an entry.
type resource struct {
	segs  []string
	dir   bool
	name  string // display name
	size  int64
	mtime time.Time
	etag  string // quoted; files only
	fsys  fs.FS  // nil for the root
	inner string // io/fs path inside fsys
}

func (r *resource) href() string { return href(r.segs, r.dir) }

// contentType is by extension only: a PROPFIND never reads file contents.
func (r *resource) contentType() string {
	if t := mime.TypeByExtension(path.Ext(r.name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func notExist(name string) error {
	return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// resolve finds the resource at segs.
func (t *tree) resolve(ctx context.Context, segs []string) (*resource, error) {
	roots, byName, err := t.list(ctx)
	if err != nil {
		return nil, err
	}
	if len(segs) == 0 {
		r := &resource{dir: true, name: "/"}
		if len(roots) > 0 {
			r.mtime = roots[0].time
		}
		return r, nil
	}
	rt, ok := byName[segs[0]]
	if !ok {
		return nil, notExist(segs[0])
	}
	fsys, err := t.snapshot(ctx, rt.id)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 {
		return &resource{segs: segs, dir: true, name: rt.name, mtime: rt.time, fsys: fsys, inner: "."}, nil
	}
	inner := strings.Join(segs[1:], "/")
	if !fs.ValidPath(inner) {
		return nil, errBadPath
	}
	info, err := fs.Lstat(fsys, inner)
	if err != nil {
		return nil, err
	}
	info, err = follow(fsys, inner, info)
	if err != nil {
		return nil, err
	}
	return entry(fsys, segs, inner, info)
}

// follow resolves a symlink the way listings show it: followed when its
// target stays inside the snapshot and is a file or directory; hidden
// (fs.ErrNotExist) when it escapes, dangles, or points at one of its own
// ancestors, which would make the tree endless for a recursive client.
func follow(fsys fs.FS, inner string, info fs.FileInfo) (fs.FileInfo, error) {
	if info.Mode()&fs.ModeSymlink != 0 {
		target, err := fs.ReadLink(fsys, inner)
		if err != nil {
			return nil, err
		}
		dir := path.Dir(inner)
		if t := path.Join(dir, target); !path.IsAbs(target) && (t == "." || dir == t || strings.HasPrefix(dir+"/", t+"/")) {
			return nil, notExist(inner)
		}
		if info, err = fs.Stat(fsys, inner); err != nil {
			if errors.Is(err, vfs.ErrCorrupt) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil, err
			}
			// Dangling, escaping, a loop: hidden.
			return nil, notExist(inner)
		}
	}
	if !info.IsDir() && !info.Mode().IsRegular() {
		return nil, notExist(inner) // FIFOs, devices, sockets
	}
	return info, nil
}

// entry builds the resource of a file or directory inside a snapshot.
func entry(fsys fs.FS, segs []string, inner string, info fs.FileInfo) (*resource, error) {
	r := &resource{segs: segs, dir: info.IsDir(), name: segs[len(segs)-1], mtime: info.ModTime(), fsys: fsys, inner: inner}
	if r.dir {
		return r, nil
	}
	r.size = info.Size()
	sys, _ := info.Sys().(*vfs.Sys)
	if sys == nil || sys.ETag == "" {
		// Directory listings of some implementations carry no Sys; Stat
		// does.
		st, err := fs.Stat(fsys, inner)
		if err != nil {
			return nil, err
		}
		sys, _ = st.Sys().(*vfs.Sys)
	}
	if sys != nil && sys.ETag != "" {
		r.etag = `"` + sys.ETag + `"`
	} else {
		r.etag = fmt.Sprintf(`"%x-%x"`, r.mtime.UnixNano(), r.size)
	}
	return r, nil
}

// children calls fn for every visible child of dir, a batch of directory
// entries at a time, so that a directory of a million entries is never
// held in memory.
func (t *tree) children(ctx context.Context, dir *resource, fn func(*resource) error) error {
	if dir.fsys == nil {
		roots, _, err := t.list(ctx)
		if err != nil {
			return err
		}
		for _, rt := range roots {
			if err := fn(&resource{segs: []string{rt.name}, dir: true, name: rt.name, mtime: rt.time}); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := dir.fsys.Open(dir.inner)
	if err != nil {
		return err
	}
	defer f.Close()
	rd, ok := f.(fs.ReadDirFile)
	if !ok {
		return &fs.PathError{Op: "readdir", Path: dir.inner, Err: fs.ErrInvalid}
	}
	for {
		des, err := rd.ReadDir(512)
		for _, de := range des {
			c, cerr := child(dir, de)
			if cerr != nil && !isNotExist(cerr) {
				return cerr
			}
			if c == nil {
				continue
			}
			if err := fn(c); err != nil {
				return err
			}
		}
		if err == io.EOF || err == nil && len(des) == 0 {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// child is the resource of one directory entry, nil when it is hidden.
func child(dir *resource, de fs.DirEntry) (*resource, error) {
	name := de.Name()
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return nil, nil
	}
	inner := name
	if dir.inner != "." {
		inner = dir.inner + "/" + name
	}
	segs := append(append(make([]string, 0, len(dir.segs)+1), dir.segs...), name)
	switch de.Type() {
	case 0, fs.ModeDir, fs.ModeSymlink:
	default:
		return nil, nil
	}
	info, err := de.Info()
	if err != nil {
		return nil, err
	}
	if info, err = follow(dir.fsys, inner, info); err != nil {
		return nil, err
	}
	return entry(dir.fsys, segs, inner, info)
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
