package webui_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
	"github.com/plakar-gw/plakar-gw/webui"
)

// FuzzRequest sends arbitrary methods, paths and queries: the UI answers
// each with a status below 500 (nothing in the fake is damaged) and never
// panics.
func FuzzRequest(f *testing.F) {
	cat := vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(0xa1, "a", t0), Files: treeA()},
		&vfstest.Snapshot{Info: vfstest.Info(0xa2, "a", t0.Add(1)), Files: fstest.MapFS{"x/y": {Data: []byte("y")}}})
	h := webui.New(cat, webui.Options{Anonymous: true})
	for _, s := range []string{
		"/", "/?job=a&tag=x&sort=time", "/s/a1a1a1a1a1a1/docs", "/s/a1a1a1a1a1a1/docs?after=sub/&q=e",
		"/raw/a1a1a1a1a1a1/big.bin", "/archive/a1a1a1a1a1a1/docs?format=tar.gz", "/select/a1a1a1a1a1a1/docs?p=link&p=sub",
		"/job/a", "/diff?a=a1a1a1a1&b=a2a2a2a2", "/s/a-latest/x", "/s/a1a1a1a1a1a1/docs/linkdir/deep",
		"/s/%2e%2e/", "/raw/a1a1a1a1a1a1/%00", "/login?next=//evil", "/static/../webui.go",
	} {
		f.Add("GET", s, "")
	}
	f.Add("POST", "/select/a1a1a1a1a1a1/docs", "csrf=x&p=readme.txt")
	f.Add("POST", "/login", "user=a&password=b")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://ui"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: %d %s", method, target, rec.Code, rec.Body.String())
		}
	})
}
