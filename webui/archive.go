package webui

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Archives stream: each entry is written as it is read, through fixed
// buffers, so memory stays constant whatever the size. Sizes and CRCs are
// not known before a file is read, so zip entries carry data descriptors.
// Once the first byte is sent the status cannot change: a read error then
// aborts the connection (http.ErrAbortHandler), and the client sees a
// broken transfer, never a valid-looking archive with a file missing or
// short (a zip without its central directory does not open).

const (
	copyBuf     = 256 << 10
	outBuf      = 64 << 10
	maxSelected = 10000
)

type archiver interface {
	add(name string, e vfs.Entry, content *exactReader) error
	close() error
}

// item is one selected path and its name inside the archive.
type item struct{ path, name string }

func (s *server) archiveDir(w http.ResponseWriter, r *http.Request) {
	snap, view, err := openSnap(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := reqPath(r)
	if err == nil {
		p, err = realPath(snap, p)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := path.Base(p)
	if p == "." {
		name = "snapshot-" + r.PathValue("snap")
	}
	s.stream(w, r, snap, view, []item{{p, name}}, name)
}

func (s *server) archiveSelection(w http.ResponseWriter, r *http.Request) {
	snap, view, err := openSnap(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	dir, err := reqPath(r)
	if err == nil {
		dir, err = realPath(snap, dir)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	r.ParseForm()
	names := r.Form["p"]
	if len(names) == 0 {
		s.errorPage(w, r, http.StatusBadRequest, "nothing selected")
		return
	}
	if len(names) > maxSelected {
		s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("more than %d entries selected: download the directory instead", maxSelected))
		return
	}
	items := make([]item, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") {
			s.errorPage(w, r, http.StatusBadRequest, fmt.Sprintf("invalid name %q in the selection", n))
			return
		}
		if !seen[n] {
			seen[n] = true
			items = append(items, item{joinPath(dir, n), n})
		}
	}
	base := path.Base(dir)
	if dir == "." {
		base = "snapshot-" + r.PathValue("snap")
	}
	s.stream(w, r, snap, view, items, base+"-selection")
}

// stream checks every item exists, then sends the archive.
func (s *server) stream(w http.ResponseWriter, r *http.Request, snap vfs.FS, view fs.FS, items []item, base string) {
	format := r.FormValue("format")
	ext, ctype := ".zip", "application/zip"
	switch format {
	case "", "zip":
	case "tar.gz", "tgz":
		ext, ctype = ".tar.gz", "application/gzip"
	default:
		s.errorPage(w, r, http.StatusBadRequest, "format must be zip or tar.gz")
		return
	}
	infos := make([]vfs.Entry, len(items))
	for i, it := range items {
		e, err := entryOf(snap, it.path)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		infos[i] = e
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", contentDisposition("attachment", base+ext))
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead { // the headers only, not the archive built and thrown away
		return
	}
	bw := bufio.NewWriterSize(w, outBuf)
	var a archiver
	if ext == ".zip" {
		a = &zipArchiver{zw: zip.NewWriter(bw)}
	} else {
		gz, _ := gzip.NewWriterLevel(bw, gzip.BestSpeed)
		a = &tarArchiver{gz: gz, tw: tar.NewWriter(gz)}
	}
	ctx := r.Context()
	buf := make([]byte, copyBuf)
	for i, it := range items {
		if err := s.addTree(ctx, a, snap, view, it, infos[i], buf); err != nil {
			s.abort(r, err)
		}
	}
	if err := errors.Join(a.close(), bw.Flush()); err != nil {
		s.abort(r, err)
	}
}

// abort ends a response whose status is already sent: the server resets
// the connection instead of finishing the body.
func (s *server) abort(r *http.Request, err error) {
	if r.Context().Err() == nil {
		s.log.Error("archive aborted", "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// entryOf describes one path like a Walk entry, without following a final
// symlink.
func entryOf(snap vfs.FS, p string) (vfs.Entry, error) {
	st, err := snap.Lstat(p)
	if err != nil {
		return vfs.Entry{}, err
	}
	e := vfs.Entry{Key: p, Mode: st.Mode(), Size: st.Size(), ModTime: st.ModTime()}
	if sys, ok := st.Sys().(*vfs.Sys); ok {
		e.UID, e.GID, e.ETag = sys.UID, sys.GID, sys.ETag
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		if e.Target, err = snap.ReadLink(p); err != nil {
			return vfs.Entry{}, err
		}
	}
	if st.IsDir() {
		e.Key = dirKey(p)
		e.Size = 0
	}
	return e, nil
}

// addTree adds an item and, for a directory, its whole subtree in key
// order: one Walk, no per-directory listing.
func (s *server) addTree(ctx context.Context, a archiver, snap vfs.FS, view fs.FS, it item, top vfs.Entry, buf []byte) error {
	if err := addEntry(a, view, it.name, top, buf); err != nil {
		return err
	}
	if !top.IsDir() {
		return nil
	}
	prefix := top.Key
	for e, err := range snap.Walk(ctx, prefix) {
		if err != nil {
			return err
		}
		if !strings.HasPrefix(e.Key, prefix) {
			break
		}
		name := it.name + "/" + strings.TrimSuffix(e.Key[len(prefix):], "/")
		if err := addEntry(a, view, name, e, buf); err != nil {
			return err
		}
	}
	return nil
}

// addEntry writes one entry; FIFOs, devices and sockets have no content
// to restore from an archive a browser downloads, and are left out.
func addEntry(a archiver, view fs.FS, name string, e vfs.Entry, buf []byte) error {
	switch {
	case e.IsDir(), e.Mode&fs.ModeSymlink != 0:
		return a.add(name, e, nil)
	case !e.Mode.IsRegular():
		return nil
	}
	f, err := view.Open(strings.TrimSuffix(e.Key, "/"))
	if err != nil {
		return err
	}
	defer f.Close()
	return a.add(name, e, &exactReader{r: f, left: e.Size, name: e.Key, buf: buf})
}

// exactReader fails unless the file yields exactly its recorded size, so
// that a short read can never end as a complete-looking entry.
type exactReader struct {
	r    io.Reader
	left int64
	name string
	buf  []byte
}

func (x *exactReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		n, err := x.r.Read(x.buf)
		if int64(n) > x.left {
			return total, fmt.Errorf("%s: longer than its recorded size", x.name)
		}
		if n > 0 {
			m, werr := w.Write(x.buf[:n])
			total += int64(m)
			x.left -= int64(m)
			if werr != nil {
				return total, werr
			}
		}
		if err == io.EOF {
			if x.left != 0 {
				return total, fmt.Errorf("%s: %d bytes short: %w", x.name, x.left, io.ErrUnexpectedEOF)
			}
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

type zipArchiver struct{ zw *zip.Writer }

func (z *zipArchiver) add(name string, e vfs.Entry, content *exactReader) error {
	h := &zip.FileHeader{Name: name, Method: zip.Store, Modified: e.ModTime}
	if e.IsDir() {
		h.Name += "/"
	}
	h.SetMode(e.Mode)
	w, err := z.zw.CreateHeader(h)
	if err != nil {
		return err
	}
	switch {
	case e.Mode&fs.ModeSymlink != 0:
		_, err = io.WriteString(w, e.Target)
	case content != nil:
		_, err = content.WriteTo(w)
	}
	return err
}

func (z *zipArchiver) close() error { return z.zw.Close() }

type tarArchiver struct {
	gz *gzip.Writer
	tw *tar.Writer
}

func (t *tarArchiver) add(name string, e vfs.Entry, content *exactReader) error {
	h := &tar.Header{Name: name, Mode: unixMode(e.Mode), ModTime: e.ModTime, Uid: int(e.UID), Gid: int(e.GID), Format: tar.FormatPAX}
	switch {
	case e.IsDir():
		h.Typeflag, h.Name = tar.TypeDir, name+"/"
	case e.Mode&fs.ModeSymlink != 0:
		h.Typeflag, h.Linkname = tar.TypeSymlink, e.Target
	default:
		h.Typeflag, h.Size = tar.TypeReg, e.Size
	}
	if h.ModTime.IsZero() {
		h.ModTime = time.Unix(0, 0)
	}
	if err := t.tw.WriteHeader(h); err != nil {
		return err
	}
	if content != nil {
		if _, err := content.WriteTo(t.tw); err != nil {
			return err
		}
	}
	return nil
}

func (t *tarArchiver) close() error { return errors.Join(t.tw.Close(), t.gz.Close()) }

// unixMode is the permission word of a tar header, special bits included.
func unixMode(m fs.FileMode) int64 {
	v := int64(m.Perm())
	if m&fs.ModeSetuid != 0 {
		v |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		v |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		v |= 0o1000
	}
	return v
}
