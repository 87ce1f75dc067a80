package s3api

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// copyBuffer bounds the memory of one download (with the engine's one
// cached and one prefetched chunk), whatever the object's size.
const copyBuffer = 256 << 10

// emptyMD5 is the ETag of an empty-directory marker: it has no content id,
// and the MD5 of nothing is what S3 gives a zero-byte object.
const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// quotedETag derives the ETag from a content id; see the package doc for
// the "-1".
func quotedETag(contentID string) string {
	if contentID == "" {
		return `"` + emptyMD5 + `"`
	}
	return `"` + contentID[:min(32, len(contentID))] + `-1"`
}

func sysETag(st fs.FileInfo) string {
	if s, ok := st.Sys().(*vfs.Sys); ok {
		return s.ETag
	}
	return ""
}

// meta is what HEAD and GET say about an object.
type meta struct {
	size  int64
	mtime time.Time
	etag  string // quoted
	mode  fs.FileMode
	uid   uint32
	gid   uint32
	dir   bool // an empty-directory marker
}

// open resolves an object key: a regular file (symlinks followed inside
// the snapshot) or, for "dir/", an empty directory. The file is resolved
// once, for its metadata and its bytes; the caller closes it (nil for a
// directory marker).
func open(fsys fs.FS, vf vfs.FS, r *http.Request, key string) (meta, vfs.File, error) {
	name, dir := strings.CutSuffix(key, "/")
	file, err := fsys.Open(name)
	if err != nil {
		return meta{}, nil, err
	}
	st, err := file.Stat()
	if err != nil {
		file.Close()
		return meta{}, nil, err
	}
	m := meta{size: st.Size(), mtime: st.ModTime(), mode: st.Mode(), dir: dir}
	if s, ok := st.Sys().(*vfs.Sys); ok {
		m.uid, m.gid = s.UID, s.GID
	}
	f, regular := file.(vfs.File)
	switch {
	case dir && st.IsDir():
		file.Close()
		// Only an empty directory is an object, as in listings.
		for e, err := range vf.Walk(r.Context(), key) {
			if err != nil {
				return meta{}, nil, err
			}
			if strings.HasPrefix(e.Key, key) {
				return meta{}, nil, fs.ErrNotExist
			}
			break
		}
		m.size, m.etag = 0, quotedETag("")
		return m, nil, nil
	case !dir && st.Mode().IsRegular() && regular:
		m.etag = quotedETag(sysETag(st))
		return m, f, nil
	}
	file.Close()
	return meta{}, nil, fs.ErrNotExist
}

func (h *handler) objectOp(w http.ResponseWriter, r *http.Request, t target, anonymous bool) {
	bk, ok, err := h.buckets.lookup(r.Context(), t.bucket)
	switch {
	case err != nil:
		writeError(w, r, fsError(err), t.resource())
		return
	case !ok:
		writeError(w, r, errNoSuchBucket, t.resource())
		return
	}
	q := r.URL.Query()
	if unsupported(r) {
		writeError(w, r, errNotImplemented, t.resource())
		return
	}
	if v := q.Get("versionId"); q.Has("versionId") && v != "null" {
		writeError(w, r, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified"), t.resource())
		return
	}
	vf, err := h.buckets.fs(r.Context(), bk)
	if err != nil {
		writeError(w, r, fsError(err), t.resource())
		return
	}
	fsys := vf.WithContext(r.Context())
	m, f, err := open(fsys, vf, r, t.key)
	if err != nil {
		writeError(w, r, fsError(err), t.resource())
		return
	}
	if f != nil {
		defer f.Close()
	}
	if q.Has("attributes") {
		attributes(w, r, m)
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", m.etag)
	hdr.Set("Last-Modified", m.mtime.UTC().Format(http.TimeFormat))
	hdr.Set("Accept-Ranges", "bytes")
	hdr.Set("x-amz-meta-mode", fmt.Sprintf("%04o", unixMode(m.mode)))
	hdr.Set("x-amz-meta-uid", strconv.FormatUint(uint64(m.uid), 10))
	hdr.Set("x-amz-meta-gid", strconv.FormatUint(uint64(m.gid), 10))
	hdr.Set("x-amz-meta-mtime", fmt.Sprintf("%d.%09d", m.mtime.Unix(), m.mtime.Nanosecond()))
	if status := conditional(r, m); status != 0 {
		if status == http.StatusNotModified {
			w.WriteHeader(status)
			return
		}
		writeError(w, r, errPrecondition, t.resource())
		return
	}
	rng, serr := requestedRange(r, m.size)
	if serr != nil {
		if serr.Status == http.StatusRequestedRangeNotSatisfiable {
			hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", m.size))
		}
		writeError(w, r, serr, t.resource())
		return
	}
	if serr := overrides(r, anonymous); serr != nil {
		writeError(w, r, serr, t.resource())
		return
	}
	h.send(w, r, t, f, m, rng)
}

// unixMode is the permission and special bits as chmod(1) spells them.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// byteRange is the part of an object to send; whole is set for a 200.
type byteRange struct {
	start, length int64
	whole         bool
}

// requestedRange reads Range and partNumber as S3 does: one range
// "bytes=a-b", "a-" or "-n"; several ranges or a malformed header are
// ignored (the whole object); a range starting at or past the end is 416.
// partNumber=1 is the whole object (every object is one part).
func requestedRange(r *http.Request, size int64) (byteRange, *s3Error) {
	whole := byteRange{0, size, true}
	spec := r.Header.Get("Range")
	if pn := r.URL.Query().Get("partNumber"); r.URL.Query().Has("partNumber") {
		n, err := strconv.Atoi(pn)
		switch {
		case err != nil || n < 1 || n > 10000:
			return whole, errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		case spec != "":
			return whole, errorf(http.StatusBadRequest, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
		case n > 1:
			return whole, errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
		}
		return byteRange{0, size, false}, nil
	}
	rest, ok := strings.CutPrefix(spec, "bytes=")
	if !ok || strings.Contains(rest, ",") {
		return whole, nil
	}
	a, b, ok := strings.Cut(strings.TrimSpace(rest), "-")
	if !ok {
		return whole, nil
	}
	invalid := errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidRange", "The requested range is not satisfiable")
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return whole, nil
		}
		if n == 0 || size == 0 {
			return whole, invalid
		}
		n = min(n, size)
		return byteRange{size - n, n, false}, nil
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return whole, nil
	}
	end := size - 1
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return whole, nil
		}
	}
	if start >= size {
		return whole, invalid
	}
	end = min(end, size-1)
	return byteRange{start, end - start + 1, false}, nil
}

// conditional applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in S3's order; it returns 412, 304 or 0 to go on.
func conditional(r *http.Request, m meta) int {
	mtime := m.mtime.Truncate(time.Second)
	im := r.Header.Get("If-Match")
	if im != "" && !etagMatch(im, m.etag) {
		return http.StatusPreconditionFailed
	}
	if v := r.Header.Get("If-Unmodified-Since"); im == "" && v != "" {
		if t, err := http.ParseTime(v); err == nil && mtime.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	inm := r.Header.Get("If-None-Match")
	if inm != "" && etagMatch(inm, m.etag) {
		return http.StatusNotModified
	}
	if v := r.Header.Get("If-Modified-Since"); inm == "" && v != "" {
		if t, err := http.ParseTime(v); err == nil && !mtime.After(t) {
			return http.StatusNotModified
		}
	}
	return 0
}

func etagMatch(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == "*" || strings.Trim(e, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// overrides applies the response-* parameters; S3 refuses them to
// anonymous callers.
func overrides(r *http.Request, anonymous bool) *s3Error {
	q := r.URL.Query()
	for _, o := range []struct{ param, header string }{
		{"response-content-type", "Content-Type"},
		{"response-content-disposition", "Content-Disposition"},
		{"response-content-language", "Content-Language"},
		{"response-content-encoding", "Content-Encoding"},
		{"response-cache-control", "Cache-Control"},
		{"response-expires", "Expires"},
	} {
		if !q.Has(o.param) {
			continue
		}
		if anonymous {
			return errorf(http.StatusBadRequest, "InvalidRequest", "Request specific response headers cannot be used for anonymous GET requests.")
		}
		if v := q.Get(o.param); strings.ContainsAny(v, "\r\n") {
			return errorf(http.StatusBadRequest, "InvalidArgument", o.param+" must not contain a line break")
		}
	}
	return nil
}

func applyOverrides(hdr http.Header, r *http.Request) {
	q := r.URL.Query()
	for param, header := range map[string]string{
		"response-content-type": "Content-Type", "response-content-disposition": "Content-Disposition",
		"response-content-language": "Content-Language", "response-content-encoding": "Content-Encoding",
		"response-cache-control": "Cache-Control", "response-expires": "Expires",
	} {
		if q.Has(param) {
			hdr.Set(header, q.Get(param))
		}
	}
}

// send writes the headers and the body. A read that fails before the
// first byte is an InternalError; one that fails later aborts the
// connection, so that the client sees a broken transfer and never a
// complete-looking wrong body.
func (h *handler) send(w http.ResponseWriter, r *http.Request, t target, f vfs.File, m meta, rng byteRange) {
	hdr := w.Header()
	var buf []byte
	if r.Method != http.MethodHead {
		buf = make([]byte, min(copyBuffer, rng.length))
	}
	ctype, first, err := contentType(f, t.key, m, rng, buf)
	if err != nil {
		writeError(w, r, fsError(err), t.resource())
		return
	}
	hdr.Set("Content-Type", ctype)
	applyOverrides(hdr, r)
	hdr.Set("Content-Length", strconv.FormatInt(rng.length, 10))
	status := http.StatusOK
	if !rng.whole {
		status = http.StatusPartialContent
		end := rng.start + rng.length - 1
		if m.size == 0 {
			end = 0
		}
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rng.start, end, m.size))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead || rng.length == 0 {
		return
	}
	if _, err := w.Write(first); err != nil {
		return
	}
	rest := rng.length - int64(len(first))
	if rest == 0 {
		return
	}
	if rw, ok := f.(vfs.RangeWriter); ok {
		_, err = rw.WriteRangeTo(writerOnly{w}, rng.start+int64(len(first)), rest)
	} else {
		_, err = io.CopyBuffer(writerOnly{w}, io.NewSectionReader(f, rng.start+int64(len(first)), rest), buf)
	}
	if err != nil && !isWriteError(err) {
		// A failed read mid-body: cut the connection, so that the client
		// sees a short body, never a complete-looking wrong one.
		panic(http.ErrAbortHandler)
	}
}

// contentType picks the type by extension, then by sniffing the first
// bytes. For a GET it also reads the first buffer of the range, so that a
// read error is still an error status. It returns that first part.
func contentType(f vfs.File, key string, m meta, rng byteRange, buf []byte) (string, []byte, error) {
	ext := mime.TypeByExtension(path.Ext(key))
	if m.dir {
		return "application/x-directory", nil, nil
	}
	var first []byte
	if len(buf) > 0 {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), rng.length)], rng.start)
		if err != nil && !(err == io.EOF && int64(n) == min(int64(len(buf)), rng.length)) {
			return "", nil, err
		}
		first = buf[:n]
	}
	if ext != "" {
		return ext, first, nil
	}
	if m.size == 0 {
		return "application/octet-stream", first, nil
	}
	sniff := first
	if rng.start != 0 || len(first) < min(512, int(m.size)) {
		head := make([]byte, min(512, m.size))
		n, err := f.ReadAt(head, 0)
		if err != nil && err != io.EOF {
			return "", nil, err
		}
		sniff = head[:n]
	}
	return http.DetectContentType(sniff), first, nil
}

// writerOnly hides the ResponseWriter's ReadFrom so that io.CopyBuffer
// uses the bounded buffer; it also tags write errors so that a client
// going away is told apart from a failed read.
type writerOnly struct{ w io.Writer }

type clientGone struct{ error }

func (w writerOnly) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = clientGone{err}
	}
	return n, err
}

func isWriteError(err error) bool {
	var cg clientGone
	return errors.As(err, &cg)
}

func attributes(w http.ResponseWriter, r *http.Request, m meta) {
	if len(r.Header.Values("X-Amz-Object-Attributes")) == 0 {
		writeError(w, r, errorf(http.StatusBadRequest, "InvalidArgument", "The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"), "")
		return
	}
	res := objectAttributes{}
	for _, a := range strings.Split(strings.Join(r.Header.Values("X-Amz-Object-Attributes"), ","), ",") {
		switch strings.TrimSpace(a) {
		case "ETag":
			res.ETag = strings.Trim(m.etag, `"`)
		case "ObjectSize":
			size := m.size
			res.ObjectSize = &size
		case "StorageClass":
			res.StorageClass = "STANDARD"
		case "ObjectParts":
			if !m.dir {
				res.ObjectParts = &parts{TotalPartsCount: 1}
			}
		}
	}
	w.Header().Set("Last-Modified", m.mtime.UTC().Format(http.TimeFormat))
	writeXML(w, res)
}
