package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Type is the importer type and URL scheme.
const Type = "tar"

// Config selects the archive.
type Config struct {
	// Location is "tar:///ABSOLUTE/PATH" or a plain path.
	Location string
	// TempDir receives the unpacked copy of a compressed archive.
	TempDir string
}

// node is one entry of the archive's tree.
type node struct {
	hdr      *tar.Header // nil for a directory the archive only implies
	offset   int64       // of a regular file's content in the plain tar
	size     int64
	inode    uint64 // shared by hardlinks; 0 for others
	nlink    uint32
	children map[string]*node
}

// archivePath turns the location into a file path.
func archivePath(loc string) (string, error) {
	if strings.HasPrefix(loc, Type+"://") {
		u, err := url.Parse(loc)
		if err != nil {
			return "", fmt.Errorf("tar: location %q: %w", loc, err)
		}
		if u.Host != "" || u.Path == "" {
			return "", fmt.Errorf("tar: location %q: want tar:///ABSOLUTE/PATH (three slashes)", loc)
		}
		return u.Path, nil
	}
	if loc == "" {
		return "", errors.New("tar: empty location")
	}
	return filepath.Abs(loc)
}

// plain returns the archive as an uncompressed tar that can be read at
// any offset: the file itself, or a copy unpacked into dir and already
// unlinked (nothing is left behind, whatever happens to the process).
func plain(ctx context.Context, f *os.File, dir string) (*os.File, error) {
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	var dec io.Reader
	switch {
	case n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return nil, err
		}
		dec = zr
	case n == 4 && bytes.Equal(magic[:], []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		dec = zr
	default:
		return f, nil
	}
	tmp, err := os.CreateTemp(dir, "plakar-gw-tar-")
	if err != nil {
		return nil, err
	}
	os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, ctxReader{ctx, dec}); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("unpacking: %w", err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return nil, err
	}
	return tmp, nil
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// countingReader tells where in the plain tar the reader is: archive/tar
// reads exactly the header blocks, so after Next the position is the
// start of the entry's content.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// index reads every header of the archive into a tree.
func index(ctx context.Context, f *os.File, mtime time.Time) (*node, error) {
	root := &node{hdr: &tar.Header{Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime}, children: map[string]*node{}}
	cr := &countingReader{r: f}
	tr := tar.NewReader(cr)
	byName := map[string]*node{}
	var links []*tar.Header
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive at byte %d: %w", cr.n, err)
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if name == "/" {
			if hdr.Typeflag == tar.TypeDir {
				root.hdr = hdr
			}
			continue
		}
		n := &node{hdr: hdr, offset: cr.n, size: hdr.Size}
		switch hdr.Typeflag {
		case tar.TypeDir:
			n.children = map[string]*node{}
		case tar.TypeLink:
			links = append(links, hdr)
			continue
		case tar.TypeReg, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeSymlink:
		case tar.TypeGNUSparse:
			return nil, fmt.Errorf("entry %q: sparse files are not supported", hdr.Name)
		default:
			continue // PAX and GNU meta entries are consumed by archive/tar
		}
		if err := insert(root, name, n); err != nil {
			return nil, err
		}
		byName[name] = n
	}
	return root, resolveLinks(root, byName, links)
}

// resolveLinks makes each hardlink share its target's content and inode.
func resolveLinks(root *node, byName map[string]*node, links []*tar.Header) error {
	var inode uint64
	for _, hdr := range links {
		name, err := entryName(hdr.Name)
		if err != nil {
			return err
		}
		target, err := entryName(hdr.Linkname)
		if err != nil {
			return err
		}
		t := byName[target]
		if t == nil || t.hdr == nil || t.hdr.Typeflag != tar.TypeReg {
			return fmt.Errorf("hardlink %q: target %q is not a regular file of the archive", hdr.Name, hdr.Linkname)
		}
		if t.inode == 0 {
			inode++
			t.inode, t.nlink = inode, 1
		}
		t.nlink++
		h := *t.hdr
		h.Name = hdr.Name
		n := &node{hdr: &h, offset: t.offset, size: t.size, inode: t.inode}
		if err := insert(root, name, n); err != nil {
			return err
		}
		byName[name] = n
	}
	// Every member of a link group reports the group's final count.
	for _, n := range byName {
		if n.inode != 0 {
			for _, m := range byName {
				if m.inode == n.inode {
					n.nlink = max(n.nlink, m.nlink)
				}
			}
		}
	}
	return nil
}

// entryName cleans an archive member name into an absolute path; one that
// climbs out of the archive ("../x") is refused, as tar -x refuses it.
func entryName(name string) (string, error) {
	p := path.Clean("/" + strings.TrimPrefix(name, "./"))
	if strings.IndexByte(name, 0) >= 0 || slices.Contains(strings.Split(name, "/"), "..") {
		return "", fmt.Errorf("archive member %q leaves the archive's root; refusing the archive", name)
	}
	return p, nil
}

// insert places n at p, creating implied directories; a later member
// replaces an earlier one of the same name, as tar -x does.
func insert(root *node, p string, n *node) error {
	dir := root
	parts := strings.Split(p[1:], "/")
	for _, part := range parts[:len(parts)-1] {
		next := dir.children[part]
		if next == nil {
			next = &node{children: map[string]*node{}}
			dir.children[part] = next
		}
		if next.children == nil {
			return fmt.Errorf("archive member %q is inside %q, which is not a directory", p, part)
		}
		dir = next
	}
	last := parts[len(parts)-1]
	if old := dir.children[last]; old != nil && old.children != nil && n.children != nil {
		old.hdr = n.hdr // a directory listed again keeps its contents
		return nil
	}
	dir.children[last] = n
	return nil
}

var errNotRegular = errors.New("not a regular file")

func lookup(root *node, p string) (*node, error) {
	n := root
	if p == "/" {
		return n, nil
	}
	for _, part := range strings.Split(p[1:], "/") {
		if n.children == nil {
			return nil, fs.ErrNotExist
		}
		if n = n.children[part]; n == nil {
			return nil, fs.ErrNotExist
		}
	}
	return n, nil
}
