package s3api

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// target is what a request addresses: the service (no bucket), a bucket
// (no key) or an object.
type target struct {
	bucket string
	key    string
	// rawPath is the path exactly as the client sent it, for signatures.
	rawPath string
}

// resource is the S3 "Resource" of an error: /bucket/key.
func (t target) resource() string {
	switch {
	case t.bucket == "":
		return "/"
	case t.key == "":
		return "/" + t.bucket
	}
	return "/" + t.bucket + "/" + t.key
}

// rawPath returns the request path as sent: gorilla/mux and net/url would
// decode %2F and merge the two spellings of a key, and a signature covers
// the bytes the client sent, so the request line is read here, once.
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" {
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") {
		// Absolute form "http://host/path" (proxies); the path starts
		// after the authority.
		if u, err := url.Parse(p); err == nil {
			return u.EscapedPath()
		}
		return ""
	}
	return p
}

// route splits a request into bucket and key. virtualBucket, when not
// empty, is the bucket named by the Host header (virtual-hosted style);
// the whole path is then the key.
func route(r *http.Request, virtualBucket string) (target, *s3Error) {
	t := target{rawPath: rawPath(r)}
	if !strings.HasPrefix(t.rawPath, "/") {
		return t, errInvalidURI
	}
	rest := t.rawPath[1:]
	if virtualBucket != "" {
		t.bucket = virtualBucket
	} else {
		b, k, _ := strings.Cut(rest, "/")
		if strings.ContainsRune(b, '%') {
			// Bucket names are [a-z0-9.-]: anything encoded names none.
			return t, errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
		}
		t.bucket, rest = b, k
	}
	if rest == "" {
		return t, nil
	}
	key, err := decodeKey(rest)
	if err != nil {
		return t, err
	}
	t.key = key
	return t, nil
}

// decodeKey decodes the key part of a path and refuses what cannot name an
// entry of a snapshot: an encoded slash (one key, two spellings), ".", ".."
// or empty segments, NUL, invalid UTF-8.
func decodeKey(raw string) (string, *s3Error) {
	if strings.Contains(raw, "%2F") || strings.Contains(raw, "%2f") {
		return "", errInvalidURI
	}
	key, err := url.PathUnescape(raw)
	if err != nil {
		return "", errInvalidURI
	}
	if !validKey(key) {
		return "", errInvalidURI
	}
	return key, nil
}

// validKey accepts file keys ("a/b") and directory markers ("a/b/").
func validKey(key string) bool {
	if key == "" || len(key) > 4096 || !utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0 {
		return false
	}
	for _, seg := range strings.Split(strings.TrimSuffix(key, "/"), "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// hostBucket returns the bucket a virtual-hosted Host names, or "". With
// domains configured, only BUCKET.DOMAIN counts; without, the first label
// counts when it is the name of a bucket (an IP address never is).
func hostBucket(host string, domains []string, exists func(string) bool) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil {
		return ""
	}
	if len(domains) > 0 {
		for _, d := range domains {
			if b, ok := strings.CutSuffix(host, "."+strings.ToLower(d)); ok && b != "" {
				return b
			}
		}
		return ""
	}
	// A bucket name may contain dots: try the longest candidate first.
	for i := len(host) - 1; i > 0; i-- {
		if host[i] == '.' && exists(host[:i]) {
			return host[:i]
		}
	}
	return ""
}
