package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"maps"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Importer reads one archive; safe for concurrent use once built.
type Importer struct {
	origin string
	f      *os.File // the plain tar
	root   *node
}

var _ importers.Importer = (*Importer)(nil)

// New opens the archive, unpacks it if compressed, and indexes it.
func New(ctx context.Context, cfg Config) (*Importer, error) {
	p, err := archivePath(cfg.Location)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("tar: %s: not a regular file", p)
	}
	pf, err := plain(ctx, f, cfg.TempDir)
	if pf != f {
		f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("tar: %s: %w", p, err)
	}
	root, err := index(ctx, pf, fi.ModTime())
	if err != nil {
		pf.Close()
		return nil, fmt.Errorf("tar: %s: %w", p, err)
	}
	return &Importer{origin: Type + "://" + p, f: pf, root: root}, nil
}

func (imp *Importer) Type() string   { return Type }
func (imp *Importer) Origin() string { return imp.origin }
func (imp *Importer) Close() error   { return imp.f.Close() }

// Scan walks the tree depth-first, siblings in byte order of names.
func (imp *Importer) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		var walk func(p string, n *node) bool
		walk = func(p string, n *node) bool {
			if err := ctx.Err(); err != nil {
				yield(importers.Record{}, err)
				return false
			}
			if !yield(record(p, n), nil) {
				return false
			}
			for _, name := range slices.Sorted(maps.Keys(n.children)) {
				if !walk(path.Join(p, name), n.children[name]) {
					return false
				}
			}
			return true
		}
		walk("/", imp.root)
	}
}

func record(p string, n *node) importers.Record {
	h := n.hdr
	if h == nil { // implied directory
		return importers.Record{Path: p, Mode: fs.ModeDir | 0o755}
	}
	rec := importers.Record{
		Path: p, Mode: modeOf(h), ModTime: h.ModTime,
		UID: uint32(h.Uid), GID: uint32(h.Gid), User: h.Uname, Group: h.Gname,
	}
	switch h.Typeflag {
	case tar.TypeReg:
		rec.Size = n.size
		if n.inode != 0 {
			rec.Inode, rec.Nlink = n.inode, n.nlink
		}
	case tar.TypeSymlink:
		rec.Target = h.Linkname
	case tar.TypeChar, tar.TypeBlock:
		rec.Rdev = mkdev(uint64(h.Devmajor), uint64(h.Devminor))
	}
	for _, k := range slices.Sorted(maps.Keys(h.PAXRecords)) {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			rec.Xattrs = append(rec.Xattrs, importers.Xattr{Name: name, Value: []byte(h.PAXRecords[k])})
		}
	}
	return rec
}

func modeOf(h *tar.Header) fs.FileMode {
	m := fs.FileMode(h.Mode & 0o777)
	if h.Mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if h.Mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if h.Mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch h.Typeflag {
	case tar.TypeDir:
		m |= fs.ModeDir
	case tar.TypeSymlink:
		m |= fs.ModeSymlink
	case tar.TypeChar:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case tar.TypeBlock:
		m |= fs.ModeDevice
	case tar.TypeFifo:
		m |= fs.ModeNamedPipe
	}
	return m
}

// mkdev is Linux's device number encoding (glibc's gnu_dev_makedev).
func mkdev(major, minor uint64) uint64 {
	return (major&0xfff)<<8 | (major&^0xfff)<<32 | minor&0xff | (minor&^0xff)<<12
}

// Open returns a regular file's bytes, read from the archive at their
// offset: opens run in parallel and never re-read the archive.
func (imp *Importer) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	n, err := lookup(imp.root, p)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	if n.hdr == nil || n.hdr.Typeflag != tar.TypeReg {
		return nil, &fs.PathError{Op: "open", Path: p, Err: errNotRegular}
	}
	return io.NopCloser(io.NewSectionReader(imp.f, n.offset, n.size)), nil
}
