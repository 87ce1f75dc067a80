package dav_test

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

// FuzzRequest sends arbitrary methods, paths, Depth and Range headers and
// bodies: the handler must never panic (other than cutting a reply with
// http.ErrAbortHandler), and a 207 must be well-formed XML.
func FuzzRequest(f *testing.F) {
	h := dav.New(vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(0xab, "job", fakeTime), Files: fakeFiles()}),
		dav.Options{Anonymous: true})
	for _, s := range []struct{ method, path, depth, rng, body string }{
		{"PROPFIND", "/job-latest/", "1", "", ""},
		{"PROPFIND", "/", "0", "", `<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><X:y xmlns:X="u"/></D:prop></D:propfind>`},
		{"PROPFIND", "/job-latest/dir/", "infinity", "", `<propfind xmlns="DAV:"><propname/></propfind>`},
		{"PROPFIND", "/job-latest/%E6%97%A5%E6%9C%AC%E8%AA%9E/", "1", "", `<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><D:x/></D:include></D:propfind>`},
		{"GET", "/job-latest/hello.txt", "", "bytes=0-3,5-", ""},
		{"GET", "/job-latest/dir/sub/deep.bin", "", "bytes=-10", ""},
		{"HEAD", "/job-latest/%25%2B%23%3F%26", "", "bytes=99999-", ""},
		{"GET", "/job-latest/%2e%2e/x", "", "", ""},
		{"PROPFIND", "/job-latest/a%2fb", "0", "", "<foo>"},
		{"PUT", "/job-latest/x", "", "", "data"},
		{"OPTIONS", "*", "", "", ""},
		{"GET", "/job-latest/link-dir/loop/sub", "", "bytes=1-0", ""},
	} {
		f.Add(s.method, s.path, s.depth, s.rng, s.body)
	}
	f.Fuzz(func(t *testing.T, method, path, depth, rng, body string) {
		raw := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nDepth: %s\r\nRange: %s\r\nContent-Length: %d\r\n\r\n%s",
			method, path, depth, rng, len(body), body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return // not HTTP: the server would not get this far
		}
		w := httptest.NewRecorder()
		func() {
			defer func() {
				if p := recover(); p != nil && p != http.ErrAbortHandler {
					t.Fatalf("panic on %q: %v", raw, p)
				}
			}()
			h.ServeHTTP(w, req)
		}()
		if w.Code < 200 || w.Code > 599 {
			t.Fatalf("status %d on %q", w.Code, raw)
		}
		if w.Code == http.StatusMultiStatus {
			d := xml.NewDecoder(w.Body)
			for {
				if _, err := d.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("207 is not XML (%v) on %q", err, raw)
				}
			}
		}
	})
}
