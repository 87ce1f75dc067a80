package s3api

import (
	"context"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const maxKeysLimit = 1000

// listQuery is a ListObjects request, both versions.
type listQuery struct {
	v2        bool
	prefix    string
	delimiter string
	maxKeys   int
	after     string // resume strictly after this key
	marker    string // V1 marker / V2 start-after: common prefixes <= it are done
	urlEncode bool
	owner     bool
}

func parseListQuery(r *http.Request, v2 bool) (listQuery, *s3Error) {
	q := r.URL.Query()
	lq := listQuery{v2: v2, prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: maxKeysLimit, owner: !v2 || q.Get("fetch-owner") == "true"}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return lq, errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		lq.maxKeys = min(n, maxKeysLimit)
	}
	switch e := q.Get("encoding-type"); e {
	case "":
	case "url":
		lq.urlEncode = true
	default:
		return lq, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	if v2 {
		lq.marker = q.Get("start-after")
		lq.after = lq.marker
		if q.Has("continuation-token") {
			tok, err := decodeToken(q.Get("continuation-token"))
			if err != nil {
				return lq, err
			}
			lq.after = max(lq.after, tok)
		}
	} else {
		lq.marker = q.Get("marker")
		lq.after = lq.marker
	}
	return lq, nil
}

// A continuation token is opaque to clients: the key to resume after
// (a common prefix ends in "\xff", past its whole subtree), versioned.
func encodeToken(after string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("1" + after))
}

func decodeToken(tok string) (string, *s3Error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || b[0] != '1' {
		return "", errBadToken
	}
	return string(b[1:]), nil
}

// beforePrefix is a key that sorts right before every key starting with
// prefix: the walk seeks there instead of scanning from the start. No
// key contains the byte 0xff (keys are UTF-8), so prefix with its last
// byte decremented and 0xff appended sorts after every smaller key.
func beforePrefix(prefix string) string {
	if prefix == "" {
		return ""
	}
	last := prefix[len(prefix)-1]
	if last == 0 {
		return prefix[:len(prefix)-1]
	}
	return prefix[:len(prefix)-1] + string([]byte{last - 1, 0xff})
}

// lister gathers one page of results.
type lister struct {
	q         listQuery
	fsys      vfs.FS
	ctx       context.Context
	contents  []object
	prefixes  []commonPrefix
	last      string // resume point after the last result
	lastName  string // the last key or common prefix returned
	truncated bool
	pending   *vfs.Entry // a directory, an object only if nothing follows under it
}

func (l *lister) full() bool { return len(l.contents)+len(l.prefixes) >= l.q.maxKeys }

// add records a result; it returns false when the page was already full,
// which means there is more.
func (l *lister) addObject(o object) bool {
	if l.full() {
		l.truncated = true
		return false
	}
	l.contents = append(l.contents, o)
	l.last, l.lastName = o.Key, o.Key
	return true
}

func (l *lister) addPrefix(p string) bool {
	if l.full() {
		l.truncated = true
		return false
	}
	l.prefixes = append(l.prefixes, commonPrefix{Prefix: p})
	l.last, l.lastName = p+"\xff", p
	return true
}

// run walks the snapshot from the resume point. A common prefix ends the
// current walk and starts a new one past its subtree, so a delimiter
// listing of a directory never reads the entries under its subdirectories.
func (l *lister) run() error {
	after := max(l.q.after, beforePrefix(l.q.prefix))
	for {
		next, more, err := l.walk(after)
		if err != nil {
			return err
		}
		if !more {
			break
		}
		after = next
	}
	return nil
}

// walk consumes one Walk from after; more says to walk again from next.
// Every key goes through the same test, the visible ones (regular files,
// links to them, empty-directory markers) through result, so a listing is
// the S3 listing of exactly the visible keys: a directory whose subtree
// holds nothing visible yields no common prefix.
func (l *lister) walk(after string) (next string, more bool, err error) {
	for e, err := range l.fsys.Walk(l.ctx, after) {
		if err != nil {
			return "", false, err
		}
		if d := l.pending; d != nil {
			l.pending = nil
			if !strings.HasPrefix(e.Key, d.Key) { // nothing under it: a marker
				seek, ok := l.result(l.object(d.Key, 0, d.ModTime, ""))
				if !ok || seek != "" {
					return seek, ok, nil
				}
			}
		}
		if !strings.HasPrefix(e.Key, l.q.prefix) {
			if e.Key > l.q.prefix {
				return "", false, nil // past every key with the prefix
			}
			continue
		}
		var o object
		switch {
		case e.Mode.IsDir():
			if d := l.q.delimiter; d != "" && e.Files > 0 && strings.Contains(e.Key[len(l.q.prefix):], d) {
				// Every key below rolls up into the common prefix this
				// directory's key already shows, and a regular file below
				// makes it visible: no need to walk down to that file (a
				// seek that reads a tree node per directory).
				seek, ok := l.result(l.object(e.Key, 0, e.ModTime, ""))
				if !ok || seek != "" {
					return seek, ok, nil
				}
				continue
			}
			e := e
			l.pending = &e
			continue
		case e.Mode.IsRegular():
			o = l.object(e.Key, e.Size, e.ModTime, e.ETag)
		case e.Mode&fs.ModeSymlink != 0:
			st, err := fs.Stat(l.fsys.WithContext(l.ctx), e.Key)
			if err != nil || !st.Mode().IsRegular() {
				continue // dangling, escaping or a directory: not an object
			}
			o = l.object(e.Key, st.Size(), st.ModTime(), sysETag(st))
		default:
			continue // FIFOs, devices, sockets
		}
		seek, ok := l.result(o)
		if !ok || seek != "" {
			return seek, ok, nil
		}
	}
	if d := l.pending; d != nil {
		l.pending = nil
		l.result(l.object(d.Key, 0, d.ModTime, ""))
	}
	return "", false, nil
}

// result adds a visible key, rolled up into a common prefix when the
// delimiter follows the prefix in it. It returns the key to seek to past
// that common prefix's subtree (or ""), and false when the page is full.
func (l *lister) result(o object) (seek string, ok bool) {
	if d := l.q.delimiter; d != "" {
		if i := strings.Index(o.Key[len(l.q.prefix):], d); i >= 0 {
			cp := o.Key[:len(l.q.prefix)+i+len(d)]
			if cp > l.q.marker && !l.addPrefix(cp) {
				return "", false
			}
			return cp + "\xff", true
		}
	}
	return "", l.addObject(o)
}

func (l *lister) object(key string, size int64, mtime time.Time, contentID string) object {
	o := object{Key: key, LastModified: isoTime(mtime), ETag: quotedETag(contentID), Size: size, StorageClass: "STANDARD"}
	if l.q.owner {
		o.Owner = &theOwner
	}
	return o
}

func (h *handler) listObjects(w http.ResponseWriter, r *http.Request, t target, bk bucket, v2 bool) {
	q, serr := parseListQuery(r, v2)
	if serr != nil {
		writeError(w, r, serr, t.resource())
		return
	}
	fsys, err := h.buckets.fs(r.Context(), bk)
	if err != nil {
		writeError(w, r, fsError(err), t.resource())
		return
	}
	l := &lister{q: q, fsys: fsys, ctx: r.Context()}
	if q.maxKeys > 0 {
		if err := l.run(); err != nil {
			writeError(w, r, fsError(err), t.resource())
			return
		}
	}
	enc := func(s string) string { return s }
	if q.urlEncode {
		enc = urlEncode
	}
	res := listResult{Name: bk.Name, Prefix: enc(q.prefix), MaxKeys: q.maxKeys, Delimiter: enc(q.delimiter),
		IsTruncated: l.truncated, Contents: l.contents, CommonPrefixes: l.prefixes}
	if q.urlEncode {
		res.EncodingType = "url"
		for i := range res.Contents {
			res.Contents[i].Key = enc(res.Contents[i].Key)
		}
		for i := range res.CommonPrefixes {
			res.CommonPrefixes[i].Prefix = enc(res.CommonPrefixes[i].Prefix)
		}
	}
	if v2 {
		n := len(l.contents) + len(l.prefixes)
		res.KeyCount = &n
		res.StartAfter = enc(r.URL.Query().Get("start-after"))
		res.ContinuationToken = r.URL.Query().Get("continuation-token")
		if l.truncated {
			res.NextContinuationToken = encodeToken(l.last)
		}
	} else {
		m := enc(q.marker)
		res.Marker = &m
		// S3 sends NextMarker only with a delimiter; without one a client
		// resumes after the last key.
		if l.truncated && q.delimiter != "" {
			res.NextMarker = enc(l.lastName)
		}
	}
	writeXML(w, res)
}

// urlEncode is encoding-type=url: every byte but unreserved ones and "/"
// percent-encoded, so that a client's url-decoding (with or without "+"
// as space) gives the key back exactly.
func urlEncode(s string) string { return awsEscape(s, false) }
