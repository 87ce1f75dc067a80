package engine

import (
	"context"
	"errors"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// snapFS is a snapshot seen through io/fs: the engine's implementation of
// vfs.FS. Symlinks are followed by Open and Stat when their target stays
// inside the snapshot; an absolute target or one that climbs out of the root
// leads nowhere (fs.ErrNotExist).
type snapFS struct {
	r   *Repository
	s   *snapshot.Snapshot
	ctx context.Context
}

var _ vfs.FS = (*snapFS)(nil)

// SnapshotFS returns the read-only file system of a snapshot.
func (r *Repository) SnapshotFS(ctx context.Context, s *snapshot.Snapshot) vfs.FS {
	return &snapFS{r: r, s: s, ctx: ctx}
}

// WithContext returns a view whose storage reads stop when ctx is done.
func (f *snapFS) WithContext(ctx context.Context) fs.FS { return &snapFS{r: f.r, s: f.s, ctx: ctx} }

func (f *snapFS) rootEntry() *tree.Entry {
	ri := f.s.Header.RootInfo
	return &tree.Entry{Name: ".", Mode: ri.Mode | fs.ModeDir, ModTime: ri.ModTime.UnixNano(), UID: ri.UID, GID: ri.GID,
		Subtree: f.s.Header.Root, Summary: f.s.Header.Summary}
}

const maxLinkHops = 40

// resolve finds the entry at name; with follow, a final symlink is followed.
// Symlinks in the middle of a path are always followed.
func (f *snapFS) resolve(op, name string, follow bool) (*tree.Entry, string, error) {
	if !fs.ValidPath(name) {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	e, p, err := f.walkPath(name, follow, 0)
	if err != nil {
		return nil, "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	return e, p, nil
}

// walkPath returns the entry and its resolved path (without symlinks).
func (f *snapFS) walkPath(name string, follow bool, hops int) (*tree.Entry, string, error) {
	cur, curPath := f.rootEntry(), "."
	if name == "." {
		return cur, curPath, nil
	}
	parts := strings.Split(name, "/")
	for i, part := range parts {
		if !cur.Mode.IsDir() {
			return nil, "", fs.ErrNotExist
		}
		e, err := tree.Lookup(f.ctx, f.r.loadNode, cur.Subtree, part)
		if errors.Is(err, tree.ErrNotFound) {
			return nil, "", fs.ErrNotExist
		}
		if err != nil {
			return nil, "", err
		}
		p := path.Join(curPath, part)
		last := i == len(parts)-1
		if e.Mode&fs.ModeSymlink != 0 && (!last || follow) {
			if hops >= maxLinkHops {
				return nil, "", errors.New("too many levels of symbolic links")
			}
			target, ok := linkTarget(path.Dir(p), e.Target)
			if !ok {
				return nil, "", fs.ErrNotExist
			}
			if e, p, err = f.walkPath(target, true, hops+1); err != nil {
				return nil, "", err
			}
		}
		cur, curPath = e, p
	}
	return cur, curPath, nil
}

// linkTarget resolves a relative symlink target against dir; false when it
// is absolute or climbs out of the snapshot.
func linkTarget(dir, target string) (string, bool) {
	if target == "" || strings.HasPrefix(target, "/") {
		return "", false
	}
	p := path.Clean(path.Join(dir, target))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false
	}
	return p, true
}

// Open opens a file or directory, following symlinks.
func (f *snapFS) Open(name string) (fs.File, error) {
	e, _, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	info := &fileInfo{e: e, name: baseName(name)}
	if e.Mode.IsDir() {
		return &dirFile{fsys: f, e: e, info: info}, nil
	}
	return newFile(f, e, info, name), nil
}

func baseName(name string) string {
	if name == "." {
		return "."
	}
	return path.Base(name)
}

// Stat follows symlinks.
func (f *snapFS) Stat(name string) (fs.FileInfo, error) {
	e, _, err := f.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return &fileInfo{e: e, name: baseName(name)}, nil
}

// Lstat does not follow a final symlink.
func (f *snapFS) Lstat(name string) (fs.FileInfo, error) {
	e, _, err := f.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return &fileInfo{e: e, name: baseName(name)}, nil
}

// ReadLink returns a symlink's target as stored.
func (f *snapFS) ReadLink(name string) (string, error) {
	e, _, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.Mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return e.Target, nil
}

// ReadDir returns the directory's entries sorted by name, as io/fs requires.
func (f *snapFS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, _, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !e.Mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	var out []fs.DirEntry
	for x, err := range tree.Iter(f.ctx, f.r.loadNode, e.Subtree, "") {
		if err != nil {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
		}
		out = append(out, fs.FileInfoToDirEntry(&fileInfo{e: x, name: x.Name}))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// Summary returns the summary of a directory.
func (f *snapFS) Summary(dir string) (vfs.Summary, error) {
	e, _, err := f.resolve("summary", dir, true)
	if err != nil {
		return vfs.Summary{}, err
	}
	if !e.Mode.IsDir() {
		return vfs.Summary{}, &fs.PathError{Op: "summary", Path: dir, Err: errors.New("not a directory")}
	}
	return e.Summary, nil
}
