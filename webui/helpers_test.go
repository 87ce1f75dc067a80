package webui_test

import (
	"html"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
	"github.com/plakar-gw/plakar-gw/webui"
	"golang.org/x/crypto/bcrypt"
)

var t0 = time.Date(2024, 3, 4, 5, 6, 7, 123456789, time.UTC)

func hash(t testing.TB, pw string) []byte {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// fake is a UI over fake snapshots: job "a" (two snapshots) and job "b"
// (one); alice may read job "a" only, root everything.
type fake struct {
	srv         *httptest.Server
	a1, a2, b1  *vfstest.Snapshot
	full, onlyA *vfstest.Catalog
}

func treeA() fstest.MapFS {
	return fstest.MapFS{
		"docs/readme.txt":      {Data: []byte("hello, readme\n"), Mode: 0o644, ModTime: t0},
		"docs/日本語/ファイル.txt":    {Data: []byte("unicode content"), Mode: 0o600, ModTime: t0.Add(time.Second)},
		"docs/a%20b?c=d&e#f+g": {Data: []byte("url-ish"), Mode: 0o644, ModTime: t0},
		"docs/new\nline":       {Data: []byte("newline"), Mode: 0o644, ModTime: t0},
		"docs/sub/deep/x.bin":  {Data: []byte(strings.Repeat("x", 5000)), Mode: 0o755, ModTime: t0.Add(2 * time.Second)},
		"docs/sub/setuid":      {Data: []byte("#!/bin/sh\n"), Mode: 0o755 | fs.ModeSetuid, ModTime: t0},
		"docs/link":            {Data: []byte("readme.txt"), Mode: fs.ModeSymlink, ModTime: t0},
		"docs/linkdir":         {Data: []byte("sub"), Mode: fs.ModeSymlink, ModTime: t0},
		"docs/empty":           {Mode: 0o700 | fs.ModeDir, ModTime: t0},
		"big.bin":              {Data: bigData(3 << 20), Mode: 0o644, ModTime: t0},
		"image.png":            {Data: pngData(), Mode: 0o644, ModTime: t0},
	}
}

func bigData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>10)
	}
	return b
}

// pngData is a 1×1 PNG.
func pngData() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
}

func newFake(t *testing.T, mod func(*webui.Options)) *fake {
	t.Helper()
	f := &fake{}
	f.a1 = &vfstest.Snapshot{Info: vfstest.Info(0xa1, "a", t0), Files: treeA()}
	f.a1.Info.Summary.Subtree.Bytes, f.a1.Info.Ingest.StoredAdded, f.a1.Info.Complete = 1000, 500, true
	a2files := treeA()
	a2files["docs/readme.txt"] = &fstest.MapFile{Data: []byte("changed readme\n"), Mode: 0o644, ModTime: t0.Add(time.Hour)}
	a2files["docs/added.txt"] = &fstest.MapFile{Data: []byte("added"), Mode: 0o644, ModTime: t0}
	delete(a2files, "image.png")
	a2files["corrupt.bin"] = &fstest.MapFile{Data: bigData(3 << 20), Mode: 0o644, ModTime: t0}
	a2files["cdir/ok.txt"] = &fstest.MapFile{Data: []byte("fine"), Mode: 0o644, ModTime: t0}
	a2files["cdir/zz-corrupt.bin"] = &fstest.MapFile{Data: bigData(2 << 20), Mode: 0o644, ModTime: t0}
	f.a2 = &vfstest.Snapshot{Info: vfstest.Info(0xa2, "a", t0.Add(24*time.Hour)), Files: a2files,
		Errors:  []vfs.PathError{{Path: "/docs/unreadable", Message: "open /docs/unreadable: permission denied"}},
		Corrupt: map[string]bool{"corrupt.bin": true, "cdir/zz-corrupt.bin": true}, CorruptAfter: 1 << 20}
	f.a2.Info.Summary.Subtree.Bytes, f.a2.Info.Ingest.StoredAdded = 2000, 100
	f.a2.Info.Tags = []string{"weekly"}
	f.b1 = &vfstest.Snapshot{Info: vfstest.Info(0xb1, "b", t0.Add(time.Hour)), Files: fstest.MapFS{
		"secret.txt": {Data: []byte("job b's secret"), Mode: 0o600, ModTime: t0},
		"dir/x":      {Data: []byte("x"), Mode: 0o600, ModTime: t0},
	}}
	f.b1.Info.Signed = "signed by 0123abcd"
	f.a2.Info.Signed = "signed by 4567cdef, trusted"
	f.full = vfstest.New(f.a1, f.a2, f.b1)
	f.onlyA = vfstest.New(f.a1, f.a2)
	o := webui.Options{
		Users: map[string][]byte{"alice": hash(t, "alice-pw"), "root": hash(t, "root-pw")},
		CatalogFor: func(user string) vfs.Catalog {
			if user == "alice" {
				return f.onlyA
			}
			return f.full
		},
	}
	if mod != nil {
		mod(&o)
	}
	f.srv = httptest.NewServer(webui.New(f.full, o))
	t.Cleanup(f.srv.Close)
	return f
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
}

func newClient(t testing.TB, base string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (c *client) do(method, path string, form url.Values, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, b
}

func (c *client) get(path string, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	return c.do("GET", path, nil, hdr...)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// token reads the CSRF token of a page's form.
func (c *client) token(path string) string {
	c.t.Helper()
	_, b := c.get(path)
	m := csrfRE.FindSubmatch(b)
	if m == nil {
		c.t.Fatalf("no csrf token in %s", path)
	}
	return string(m[1])
}

func (c *client) login(user, pw string) *http.Response {
	c.t.Helper()
	tok := c.token("/login")
	resp, _ := c.do("POST", "/login", url.Values{"csrf": {tok}, "user": {user}, "password": {pw}, "next": {"/"}})
	return resp
}

func loggedIn(t testing.TB, base, user, pw string) *client {
	t.Helper()
	c := newClient(t, base)
	if resp := c.login(user, pw); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login as %s: %s", user, resp.Status)
	}
	return c
}

func newServer(t testing.TB, cat vfs.Catalog, o webui.Options) string {
	t.Helper()
	srv := httptest.NewServer(webui.New(cat, o))
	t.Cleanup(srv.Close)
	return srv.URL
}

var (
	rowRE  = regexp.MustCompile(`<tr data-name="([^"]*)">`)
	nextRE = regexp.MustCompile(`<a href="([^"]+)" id="next-page">`)
)

// rowNames returns the entry names of a directory page, in order.
func rowNames(body []byte) []string {
	var out []string
	for _, m := range rowRE.FindAllSubmatch(body, -1) {
		out = append(out, htmlUnescape(string(m[1])))
	}
	return out
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }

func execCommand(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}
