package s3api

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Path tricks answer 4xx and never reach outside a key.
func TestTraversal(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{Anonymous: true})
	for _, p := range []string{
		"/docs-latest/../docs-latest/a.txt", "/docs-latest/dir/../a.txt", "/docs-latest/%2e%2e/a.txt",
		"/docs-latest/dir/%2E%2E/a.txt", "/docs-latest/./a.txt", "/docs-latest/%2e/a.txt",
		"/docs-latest/dir%2Fb.txt", "/docs-latest/dir%2fb.txt", "/docs-latest/dir//b.txt",
		"/docs-latest/a.txt%00", "/docs-latest/%00", "/docs-latest/%ff", "/docs-latest/a%zz",
		"/docs-latest/..", "/docs-latest/dir/..", "/..", "/../etc/passwd", "/%2e%2e/a.txt",
		"/docs-latest%2Fa.txt", "/docs-latest/" + strings.Repeat("a/", 3000),
	} {
		for _, m := range []string{"GET", "HEAD"} {
			r := f.raw(t, m, p, nil)
			if r.StatusCode < 400 || r.StatusCode >= 500 {
				t.Errorf("%s %s: %d, want 4xx", m, p, r.StatusCode)
			}
		}
	}
	// The same through the signed path: still refused, not a signature error.
	r := f.signed(t, "GET", "/docs-latest/%2e%2e/a.txt", nil, time.Time{})
	expectError(t, r, 400, "InvalidURI")
}

// FuzzRequest feeds arbitrary request lines, headers (ranges, conditions,
// SigV4 fields) and queries to the handler: it answers with a status and
// never panics. http.ErrAbortHandler is the one allowed panic, and only
// after a 200 started streaming a body.
func FuzzRequest(f *testing.F) {
	seeds := []struct{ method, target, auth, rng, extra string }{
		{"GET", "/", "", "", ""},
		{"GET", "/docs-latest?list-type=2&prefix=d&delimiter=/&max-keys=2&continuation-token=MWRpci8", "", "", ""},
		{"GET", "/docs-latest?marker=dir/&delimiter=/&encoding-type=url", "", "", ""},
		{"GET", "/docs-latest/big.bin", "", "bytes=-10", "If-None-Match: *"},
		{"GET", "/docs-latest/big.bin?partNumber=1", "", "bytes=0-1,2-3", "If-Modified-Since: Mon, 06 May 2024 07:08:09 GMT"},
		{"HEAD", "/docs-latest/dir/emptysub/", "", "bytes=0-", ""},
		{"GET", "/docs-latest/a.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20240101T000000Z&X-Amz-Expires=99999999999&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "", "", ""},
		{"GET", "/docs-latest/a.txt", "AWS4-HMAC-SHA256 Credential=AKIDTEST/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc", "", "X-Amz-Date: 20240101T000000Z"},
		{"PUT", "/docs-latest/a.txt?acl", "", "", "Content-Length: 0"},
		{"GET", "/docs-latest/%2e%2e/x", "", "", ""},
		{"GET", "/docs-latest/a.txt?attributes", "", "", "X-Amz-Object-Attributes: ETag,ObjectSize,ObjectParts"},
		{"GET", "/corrupt-latest/late.bin", "", "bytes=1048000-1049000", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.auth, s.rng, s.extra)
	}
	// The fake re-sorts a snapshot on every seek: a small one keeps each
	// execution fast (a delimiter listing seeks once per common prefix).
	h := newHandler(fakeCatalogN(100), Options{Credentials: map[string]string{testKey: testSecret}, Anonymous: true}, time.Now)
	f.Fuzz(func(t *testing.T, method, target, auth, rng, extra string) {
		raw := method + " " + target + " HTTP/1.1\r\nHost: s3.test\r\n"
		if auth != "" {
			raw += "Authorization: " + auth + "\r\n"
		}
		if rng != "" {
			raw += "Range: " + rng + "\r\n"
		}
		if extra != "" {
			raw += extra + "\r\n"
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw + "\r\n")))
		if err != nil {
			return // net/http would have answered 400 itself
		}
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil {
					if p != http.ErrAbortHandler || w.Code != 200 && w.Code != 206 {
						t.Fatalf("%q: panic %v (status %d)", raw, p, w.Code)
					}
				}
			}()
			h.ServeHTTP(w, req)
		}()
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("%q: status %d", raw, w.Code)
		}
		if w.Code >= 200 && w.Code < 300 && method != "GET" && method != "HEAD" {
			t.Fatalf("%q: a write answered %d", raw, w.Code)
		}
		if w.Header().Get("x-amz-request-id") == "" {
			t.Fatalf("%q: no request id", raw)
		}
	})
}
