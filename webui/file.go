package webui

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const (
	textPreviewMax  = 1 << 20  // bytes of a text file shown inline
	imagePreviewMax = 32 << 20 // larger images are only downloaded
)

// previewImages are the image types shown inline; anything else (SVG
// included, which can carry script) is only ever a download.
var previewImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true, "image/bmp": true}

type xattr struct{ Name, Value string }

func (s *server) filePage(w http.ResponseWriter, r *http.Request, snap vfs.FS, view fs.FS, name, p string, st fs.FileInfo) {
	data := map[string]any{
		"Snap": name, "Path": p, "Name": path.Base(p), "Crumbs": breadcrumb(name, p), "Info": st,
		"Mode": st.Mode(), "IsLink": st.Mode()&fs.ModeSymlink != 0, "Regular": st.Mode().IsRegular(),
	}
	if sys, ok := st.Sys().(*vfs.Sys); ok {
		data["Sys"] = sys
		var xs []xattr
		for k, v := range sys.Xattrs {
			val := string(v)
			if !utf8.Valid(v) {
				val = fmt.Sprintf("%x", v)
			}
			xs = append(xs, xattr{k, val})
		}
		sort.Slice(xs, func(i, j int) bool { return xs[i].Name < xs[j].Name })
		data["Xattrs"] = xs
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		target, err := snap.ReadLink(p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Target"] = target
		if rp, err := realPath(snap, p); err == nil {
			data["TargetURL"] = snapURL("s", name, rp)
		}
	}
	if st.Mode().IsRegular() {
		data["RawURL"] = snapURL("raw", name, p)
		if err := preview(view, p, st.Size(), data); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "file", data)
}

// preview sniffs the start of the file and adds a text excerpt or an
// image URL to data.
func preview(view fs.FS, p string, size int64, data map[string]any) error {
	if size == 0 {
		return nil
	}
	f, err := view.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, min(size, textPreviewMax))
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	buf = buf[:n]
	ctype := http.DetectContentType(buf)
	switch {
	case previewImages[ctype] && size <= imagePreviewMax:
		data["Image"] = snapURL("raw", data["Snap"].(string), p) + "?inline=1"
	case strings.HasPrefix(ctype, "text/") && validPrefix(buf):
		data["Text"] = string(buf)
		data["Truncated"] = size > int64(len(buf))
	}
	return nil
}

// validPrefix accepts UTF-8 cut in the middle of its last rune.
func validPrefix(b []byte) bool {
	for i := 0; i < utf8.UTFMax && len(b) > 0; i++ {
		if utf8.Valid(b) {
			return true
		}
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// raw serves a regular file with Range, conditional requests and an ETag
// from its content id; a browser can resume it.
func (s *server) raw(w http.ResponseWriter, r *http.Request) {
	_, view, err := openSnap(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := reqPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := view.Open(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vf, ok := f.(vfs.File)
	if !ok || !st.Mode().IsRegular() {
		s.errorPage(w, r, http.StatusBadRequest, "not a regular file: download a directory as an archive")
		return
	}
	h := w.Header()
	if sys, ok := st.Sys().(*vfs.Sys); ok && sys.ETag != "" {
		h.Set("ETag", `"`+sys.ETag+`"`)
	}
	// The file's bytes are the snapshot's, not the UI's: never let them
	// run as a page of this origin.
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; sandbox")
	h.Set("Cache-Control", "private, max-age=3600")
	disp := "attachment"
	if r.FormValue("inline") != "" && st.Size() <= imagePreviewMax {
		head := make([]byte, 512)
		n, _ := vf.ReadAt(head, 0)
		if ct := http.DetectContentType(head[:n]); previewImages[ct] {
			disp = "inline"
			h.Set("Content-Type", ct)
		}
	}
	if disp == "attachment" {
		h.Set("Content-Type", "application/octet-stream")
	}
	h.Set("Content-Disposition", contentDisposition(disp, path.Base(p)))
	http.ServeContent(w, r, "", st.ModTime(), vf)
}

// contentDisposition writes RFC 6266: an ASCII fallback filename for old
// clients, and filename* (RFC 5987, UTF-8, percent-encoded) with the exact
// name for the others.
func contentDisposition(kind, name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 || r == '"' || r == '\\' || r == '%' || r == '/':
			ascii.WriteByte('_')
		default:
			ascii.WriteRune(r)
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			ext.WriteByte(c)
		} else {
			fmt.Fprintf(&ext, "%%%02X", c)
		}
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, ascii.String(), ext.String())
}
