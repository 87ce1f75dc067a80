// Package vfstest owns the fake Catalog that frontend unit tests run
// against: snapshots built from testing/fstest.MapFS values, with the
// behaviour the engine promises (S3 key order in Walk, summaries, recorded
// errors, symlinks, contexts, integrity failures on demand). It is
// standard library only, like vfs.
package vfstest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"path"
	"sort"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Snapshot is one fake snapshot: its description and its tree. Info.ID
// must be 64 hex characters.
type Snapshot struct {
	Info   vfs.SnapshotInfo
	Files  fstest.MapFS
	Errors []vfs.PathError
	// Corrupt lists paths whose reads fail with vfs.ErrCorrupt after the
	// first CorruptAfter bytes, as a damaged pack would.
	Corrupt      map[string]bool
	CorruptAfter int64
}

// Catalog is a fake vfs.Catalog. Snapshots may be added and removed while
// it is in use.
type Catalog struct {
	mu    sync.Mutex
	snaps []*Snapshot
}

var _ vfs.Catalog = (*Catalog)(nil)

// New returns a catalog holding snaps.
func New(snaps ...*Snapshot) *Catalog {
	c := &Catalog{}
	for _, s := range snaps {
		c.Add(s)
	}
	return c
}

// Add adds a snapshot.
func (c *Catalog) Add(s *Snapshot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snaps = append(c.snaps, s)
	sort.SliceStable(c.snaps, func(i, j int) bool { return c.snaps[i].Info.Time.After(c.snaps[j].Info.Time) })
}

// Remove removes the snapshot with the given id.
func (c *Catalog) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.snaps = slicesDelete(c.snaps, func(s *Snapshot) bool { return s.Info.ID == id })
}

func slicesDelete(in []*Snapshot, del func(*Snapshot) bool) []*Snapshot {
	out := in[:0]
	for _, s := range in {
		if !del(s) {
			out = append(out, s)
		}
	}
	return out
}

// Snapshots returns every snapshot, newest first.
func (c *Catalog) Snapshots(ctx context.Context) ([]vfs.SnapshotInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]vfs.SnapshotInfo, len(c.snaps))
	for i, s := range c.snaps {
		out[i] = s.Info
	}
	return out, nil
}

// OpenSnapshot opens a snapshot by id, unique prefix (8 characters or
// more), or "JOB-latest".
func (c *Catalog) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var found *Snapshot
	if job, ok := strings.CutSuffix(name, "-latest"); ok {
		for _, s := range c.snaps { // newest first
			if s.Info.Job == job {
				found = s
				break
			}
		}
	} else if len(name) >= 8 {
		for _, s := range c.snaps {
			if strings.HasPrefix(s.Info.ID, name) {
				if found != nil {
					return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("ambiguous snapshot prefix: %w", fs.ErrInvalid)}
				}
				found = s
			}
		}
	}
	if found == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &FS{snap: found, ctx: context.Background()}, nil
}

// FS is a fake snapshot tree.
type FS struct {
	snap *Snapshot
	ctx  context.Context
}

var _ vfs.FS = (*FS)(nil)

// WithContext returns a view whose reads fail once ctx is done.
func (f *FS) WithContext(ctx context.Context) fs.FS { return &FS{snap: f.snap, ctx: ctx} }

// resolve follows symlinks in every component of name (in the last one
// only when follow is set), staying inside the snapshot, as the engine does.
func (f *FS) resolve(op, name string, follow bool) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	if err := f.ctx.Err(); err != nil {
		return "", &fs.PathError{Op: op, Path: name, Err: err}
	}
	cur := "."
	parts := strings.Split(name, "/")
	if name == "." {
		parts = nil
	}
	for hops := 0; len(parts) > 0; {
		next := path.Join(cur, parts[0])
		parts = parts[1:]
		mf, ok := f.snap.Files[next]
		if !ok {
			if _, err := fs.Stat(f.snap.Files, next); err != nil {
				return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
			}
			cur = next
			continue
		}
		if mf.Mode&fs.ModeSymlink == 0 || (len(parts) == 0 && !follow) {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", &fs.PathError{Op: op, Path: name, Err: errors.New("too many links")}
		}
		target := string(mf.Data)
		if path.IsAbs(target) {
			return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		joined := path.Join(cur, target)
		if joined == ".." || strings.HasPrefix(joined, "../") {
			return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		rest := append(strings.Split(joined, "/"), parts...)
		if joined == "." {
			rest = parts
		}
		cur, parts = ".", rest
	}
	return cur, nil
}

// Open opens a file or directory, following symlinks inside the snapshot.
func (f *FS) Open(name string) (fs.File, error) {
	p, err := f.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	file, err := f.snap.Files.Open(p)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
		return &File{File: file.(vfs.File), fs: f, name: p, info: info{st, f.snap.Files[p]}}, nil
	}
	return file, nil
}

// Stat follows symlinks.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	p, err := f.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return f.stat(p, name)
}

// Lstat does not follow a final symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	p, err := f.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return f.stat(p, name)
}

func (f *FS) stat(p, name string) (fs.FileInfo, error) {
	st, err := f.snap.Files.Lstat(p)
	if err != nil {
		return nil, err
	}
	return info{st, f.snap.Files[p]}, nil
}

// ReadLink returns a symlink's target.
func (f *FS) ReadLink(name string) (string, error) {
	p, err := f.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	return f.snap.Files.ReadLink(p)
}

// ReadDir lists a directory sorted by name.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	p, err := f.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	des, err := f.snap.Files.ReadDir(p)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(des))
	for i, d := range des {
		st, err := f.stat(path.Join(p, d.Name()), d.Name())
		if err != nil {
			return nil, err
		}
		out[i] = fs.FileInfoToDirEntry(st)
	}
	return out, nil
}

// Summary counts the directory's entries, itself and its subtree.
func (f *FS) Summary(dir string) (vfs.Summary, error) {
	p, err := f.resolve("summary", dir, true)
	if err != nil {
		return vfs.Summary{}, err
	}
	var s vfs.Summary
	prefix := ""
	if p != "." {
		prefix = p + "/"
	}
	for e, err := range f.Walk(f.ctx, "") {
		if err != nil {
			return vfs.Summary{}, err
		}
		k := strings.TrimSuffix(e.Key, "/")
		if !strings.HasPrefix(k, prefix) || k == p {
			continue
		}
		rest := strings.TrimPrefix(k, prefix)
		add(&s.Subtree, e)
		if !strings.Contains(rest, "/") {
			add(&s.Self, e)
		}
	}
	for pe, err := range f.Errors(dir) {
		if err != nil {
			return vfs.Summary{}, err
		}
		s.Subtree.Errors++
		if path.Dir(strings.TrimPrefix(pe.Path, "/")) == p {
			s.Self.Errors++
		}
	}
	return s, nil
}

func add(c *vfs.Counts, e vfs.Entry) {
	switch {
	case e.Mode.IsDir():
		c.Dirs++
	case e.Mode.IsRegular():
		c.Files++
		c.Bytes += uint64(e.Size)
		if e.Size > c.LargestSize || c.LargestFile == "" {
			c.LargestSize, c.LargestFile = e.Size, "/"+e.Key
		}
	case e.Mode&fs.ModeSymlink != 0:
		c.Symlinks++
	default:
		c.Others++
	}
	if c.OldestMtime.IsZero() || e.ModTime.Before(c.OldestMtime) {
		c.OldestMtime = e.ModTime
	}
	if e.ModTime.After(c.NewestMtime) {
		c.NewestMtime = e.ModTime
	}
}

// Errors yields the recorded errors at or under dir, in path order.
func (f *FS) Errors(dir string) iter.Seq2[vfs.PathError, error] {
	return func(yield func(vfs.PathError, error) bool) {
		p, err := f.resolve("errors", dir, true)
		if err != nil {
			yield(vfs.PathError{}, err)
			return
		}
		abs := "/" + p
		if p == "." {
			abs = "/"
		}
		errs := append([]vfs.PathError(nil), f.snap.Errors...)
		sort.Slice(errs, func(i, j int) bool { return errs[i].Path < errs[j].Path })
		for _, e := range errs {
			if abs == "/" || e.Path == abs || strings.HasPrefix(e.Path, abs+"/") {
				if !yield(e, nil) {
					return
				}
			}
		}
	}
}

// Walk yields every entry after the key after, in S3 key order. The fake
// sorts everything on each call; only the engine's Walk is a seek.
func (f *FS) Walk(ctx context.Context, after string) iter.Seq2[vfs.Entry, error] {
	return func(yield func(vfs.Entry, error) bool) {
		var entries []vfs.Entry
		err := fs.WalkDir(f.snap.Files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || p == "." {
				return err
			}
			st, err := f.snap.Files.Lstat(p)
			if err != nil {
				return err
			}
			e := vfs.Entry{Key: p, Mode: st.Mode(), Size: st.Size(), ModTime: st.ModTime()}
			switch {
			case st.IsDir():
				e.Key += "/"
				e.Size = 0
			case st.Mode()&fs.ModeSymlink != 0:
				e.Target = string(f.snap.Files[p].Data)
			case st.Mode().IsRegular():
				e.ETag = etag(f.snap.Files[p])
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			yield(vfs.Entry{}, err)
			return
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
		for k := range entries {
			if entries[k].Mode.IsDir() {
				for _, x := range entries[k+1:] {
					if !strings.HasPrefix(x.Key, entries[k].Key) {
						break
					}
					if x.Mode.IsRegular() {
						entries[k].Files++
					}
				}
			}
		}
		i := sort.Search(len(entries), func(i int) bool { return entries[i].Key > after })
		for _, e := range entries[i:] {
			if err := ctx.Err(); err != nil {
				yield(vfs.Entry{}, err)
				return
			}
			if !yield(e, nil) {
				return
			}
		}
	}
}

// etag is a stable fake content id: a hex FNV-style digest of the data,
// 64 characters like the engine's.
func etag(mf *fstest.MapFile) string {
	if mf == nil {
		return ""
	}
	var h uint64 = 14695981039346656037
	for _, b := range mf.Data {
		h ^= uint64(b)
		h *= 1099511628211
	}
	return fmt.Sprintf("%016x", h) + strings.Repeat("0", 48)
}

// info adds vfs.Sys to a MapFS FileInfo.
type info struct {
	fs.FileInfo
	mf *fstest.MapFile
}

// Sys returns a *vfs.Sys with the content id of a regular file and the
// MapFile's Sys when it is a vfs.Sys itself (to set uid, gid, xattrs).
func (i info) Sys() any {
	s := &vfs.Sys{Nlink: 1}
	if i.mf != nil {
		if own, ok := i.mf.Sys.(*vfs.Sys); ok {
			c := *own
			s = &c
		}
		if i.Mode().IsRegular() {
			s.ETag = etag(i.mf)
		}
	}
	return s
}

// File is a regular file of a fake snapshot.
type File struct {
	vfs.File
	fs   *FS
	name string
	info info
	off  int64
}

func (f *File) Stat() (fs.FileInfo, error) { return f.info, nil }

func (f *File) check(off int64, n int) error {
	if err := f.fs.ctx.Err(); err != nil {
		return &fs.PathError{Op: "read", Path: f.name, Err: err}
	}
	if f.fs.snap.Corrupt[f.name] && off+int64(n) > f.fs.snap.CorruptAfter {
		return &fs.PathError{Op: "read", Path: f.name, Err: vfs.ErrCorrupt}
	}
	return nil
}

// ReadAt reads, failing like a damaged pack on a corrupt file.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.check(off, len(p)); err != nil {
		// Return the good prefix first, as the engine does chunk by chunk.
		good := f.fs.snap.CorruptAfter - off
		if good <= 0 || !errors.Is(err, vfs.ErrCorrupt) {
			return 0, err
		}
		n, _ := f.File.ReadAt(p[:min(int64(len(p)), good)], off)
		return n, err
	}
	return f.File.ReadAt(p, off)
}

// Read reads from the current offset.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.ReadAt(p, f.off)
	f.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Seek sets the offset of the next Read.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.off
	case io.SeekEnd:
		offset += f.info.Size()
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.off = offset
	return offset, nil
}

// Info is a convenience for building a SnapshotInfo with a 64-hex id made
// from seed.
func Info(seed byte, job string, t time.Time) vfs.SnapshotInfo {
	id := strings.Repeat(fmt.Sprintf("%02x", seed), 32)
	return vfs.SnapshotInfo{ID: id, Job: job, Time: t, Hostname: "fake", Importer: "fs", Origin: "/fake", Signed: "unsigned"}
}
