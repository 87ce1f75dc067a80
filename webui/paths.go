package webui

import (
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// snapURL builds /KIND/SNAP/P with every segment escaped on its own, so
// that names with %, #, ?, &, +, spaces, newlines or any unicode form
// round-trip through the browser and ServeMux (which unescapes per segment).
func snapURL(kind, snap, p string) string {
	var b strings.Builder
	b.WriteString("/" + kind + "/" + url.PathEscape(snap) + "/")
	if p == "." || p == "" {
		return b.String()
	}
	for i, seg := range strings.Split(p, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(seg))
	}
	return b.String()
}

// reqPath returns the io/fs path named by the request's {path...}, refusing
// "..", empty segments and anything else fs.ValidPath refuses.
func reqPath(r *http.Request) (string, error) {
	p := strings.TrimSuffix(r.PathValue("path"), "/")
	if p == "" {
		return ".", nil
	}
	if !fs.ValidPath(p) || strings.ContainsRune(p, 0) {
		return "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrInvalid}
	}
	return p, nil
}

// openSnap opens the request's snapshot through the visitor's catalog:
// another user's snapshot is "not found", never "forbidden", so ids do not
// leak. The view stops its reads when the request ends.
func openSnap(r *http.Request) (vfs.FS, fs.FS, error) {
	name := r.PathValue("snap")
	if name == "" {
		name = r.FormValue("snap")
	}
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return nil, nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	snap, err := visitorOf(r).cat.OpenSnapshot(r.Context(), name)
	if err != nil {
		return nil, nil, err
	}
	return snap, snap.WithContext(r.Context()), nil
}

// realPath resolves symlinks in every component of p inside the snapshot,
// so that a directory reached through a link is listed by its own keys
// (Walk knows keys, not links). Links that escape the snapshot, are
// absolute or dangle give fs.ErrNotExist, as Open does.
func realPath(snap vfs.FS, p string) (string, error) {
	if p == "." {
		return p, nil
	}
	cur, parts := ".", strings.Split(p, "/")
	for hops := 0; len(parts) > 0; {
		next := path.Join(cur, parts[0])
		parts = parts[1:]
		st, err := snap.Lstat(next)
		if err != nil {
			return "", err
		}
		if st.Mode()&fs.ModeSymlink == 0 {
			cur = next
			continue
		}
		if hops++; hops > 40 {
			return "", &fs.PathError{Op: "open", Path: p, Err: fmt.Errorf("too many links: %w", fs.ErrInvalid)}
		}
		target, err := snap.ReadLink(next)
		if err != nil {
			return "", err
		}
		joined := path.Join(cur, target)
		if path.IsAbs(target) || joined == ".." || strings.HasPrefix(joined, "../") {
			return "", &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
		}
		if joined != "." {
			parts = append(strings.Split(joined, "/"), parts...)
		}
		cur = "."
	}
	return cur, nil
}

// crumb is one link of a breadcrumb.
type crumb struct {
	Name, URL string
}

func breadcrumb(snap, p string) []crumb {
	out := []crumb{{Name: snap, URL: snapURL("s", snap, ".")}}
	if p == "." {
		return out
	}
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		out = append(out, crumb{Name: seg, URL: snapURL("s", snap, strings.Join(segs[:i+1], "/"))})
	}
	return out
}

// dirKey is the Walk prefix of directory p's children.
func dirKey(p string) string {
	if p == "." {
		return ""
	}
	return p + "/"
}

// subtreeEnd is a Walk "after" key past every key under the directory
// key k ("a/"): no UTF-8 name contains 0xff, so no key under k sorts after
// it, and the first sibling after the subtree is the next key yielded.
func subtreeEnd(k string) string { return k + "\xff\xff\xff\xff" }

func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}
