package dav

import (
	"errors"
	"net/url"
	"strings"
)

var errBadPath = errors.New("bad path")

// parsePath splits the request path into decoded segments. It works on the
// escaped form, so that an encoded slash stays inside its segment and is
// refused there instead of becoming a separator. "." and ".." (plain or
// encoded), NUL and slashes inside a name are refused: none can name an
// entry of a snapshot, and refusing them keeps traversal out by
// construction. Empty segments (a trailing slash, "//") are dropped.
func parsePath(u *url.URL) ([]string, error) {
	p := u.EscapedPath()
	if !strings.HasPrefix(p, "/") {
		return nil, errBadPath
	}
	var segs []string
	for _, raw := range strings.Split(p[1:], "/") {
		if raw == "" {
			continue
		}
		s, err := url.PathUnescape(raw)
		if err != nil {
			return nil, errBadPath
		}
		if s == "." || s == ".." || strings.ContainsAny(s, "/\x00") {
			return nil, errBadPath
		}
		segs = append(segs, s)
	}
	return segs, nil
}

// href is the percent-encoded absolute path of segs; collections end in a
// slash. Every byte outside the RFC 3986 unreserved set is encoded, so names
// keep their exact bytes (NFC and NFD differ) and no client can read "+" as
// a space or "?" and "#" as the end of the path.
func href(segs []string, dir bool) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		escapeSegment(&b, s)
	}
	if dir || len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

func escapeSegment(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}
