package webui_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
	"github.com/plakar-gw/plakar-gw/webui"
)

func TestLoginRequired(t *testing.T) {
	f := newFake(t, nil)
	c := newClient(t, f.srv.URL)
	for _, p := range []string{"/", "/s/a1a1a1a1a1a1/", "/raw/a1a1a1a1a1a1/big.bin", "/job/a"} {
		resp, _ := c.get(p)
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login?next=") {
			t.Errorf("GET %s without a session: %s %s, want a redirect to /login", p, resp.Status, resp.Header.Get("Location"))
		}
	}
	if resp, _ := c.get("/static/style.css"); resp.StatusCode != http.StatusOK {
		t.Errorf("stylesheet without a session: %s", resp.Status)
	}
}

func TestLoginFailure(t *testing.T) {
	f := newFake(t, nil)
	for _, cred := range [][2]string{{"alice", "wrong"}, {"nobody", "alice-pw"}, {"", ""}, {"alice", ""}} {
		c := newClient(t, f.srv.URL)
		resp := c.login(cred[0], cred[1])
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("login %q/%q: %s, want 401", cred[0], cred[1], resp.Status)
		}
		for _, ck := range resp.Cookies() {
			if ck.Name == "plakar_gw_session" && ck.Value != "" {
				t.Errorf("login %q/%q set a session cookie", cred[0], cred[1])
			}
		}
		if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after a failed login, / answers %s", resp.Status)
		}
	}
}

func TestSessionCookie(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFake(t, func(o *webui.Options) { o.Secure = secure })
		c := newClient(t, f.srv.URL)
		resp := c.login("alice", "alice-pw")
		var got *http.Cookie
		for _, ck := range resp.Cookies() {
			if ck.Name == "plakar_gw_session" {
				got = ck
			}
		}
		if got == nil || !got.HttpOnly || got.SameSite != http.SameSiteStrictMode || got.Secure != secure || len(got.Value) < 32 {
			t.Fatalf("secure=%v: session cookie %+v", secure, got)
		}
		if secure {
			continue // the jar does not send Secure cookies over http
		}
		if resp, b := c.get("/"); resp.StatusCode != 200 || !bytes.Contains(b, []byte(`id="user">alice<`)) {
			t.Errorf("logged in: / is %s", resp.Status)
		}
		tok := c.token("/")
		if resp, _ := c.do("POST", "/logout", url.Values{"csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("logout: %s", resp.Status)
		}
		if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
			t.Errorf("after logout / answers %s", resp.Status)
		}
	}
}

func TestCSRF(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	good := c.token("/s/a1a1a1a1a1a1/docs")
	sel := "/select/a1a1a1a1a1a1/docs"
	for name, form := range map[string]url.Values{
		"no token":    {"p": {"readme.txt"}},
		"wrong token": {"p": {"readme.txt"}, "csrf": {good[:len(good)-1] + "x"}},
		"empty token": {"p": {"readme.txt"}, "csrf": {""}},
	} {
		if resp, _ := c.do("POST", sel, form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("selection POST with %s: %s, want 403", name, resp.Status)
		}
		if resp, _ := c.do("POST", "/logout", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout with %s: %s, want 403", name, resp.Status)
		}
	}
	// Another visitor's token is not this session's.
	other := loggedIn(t, f.srv.URL, "alice", "alice-pw").token("/")
	if resp, _ := c.do("POST", sel, url.Values{"p": {"readme.txt"}, "csrf": {other}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("selection POST with another session's token: %s, want 403", resp.Status)
	}
	if resp, _ := c.do("POST", sel, url.Values{"p": {"readme.txt"}, "csrf": {good}}); resp.StatusCode != http.StatusOK {
		t.Errorf("selection POST with the token: %s", resp.Status)
	}
	// The login form is protected too (login CSRF).
	anon := newClient(t, f.srv.URL)
	if resp, _ := anon.do("POST", "/login", url.Values{"user": {"alice"}, "password": {"alice-pw"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without the form token: %s, want 403", resp.Status)
	}
}

func TestAccessControl(t *testing.T) {
	f := newFake(t, nil)
	alice := loggedIn(t, f.srv.URL, "alice", "alice-pw")
	_, list := alice.get("/")
	if bytes.Contains(list, []byte("b1b1b1b1")) || !bytes.Contains(list, []byte("a1a1a1a1")) {
		t.Errorf("alice's snapshot list shows job b or hides job a")
	}
	b := "b1b1b1b1b1b1"
	for _, p := range []string{"/s/" + b + "/", "/s/" + b + "/secret.txt", "/raw/" + b + "/secret.txt",
		"/archive/" + b + "/", "/archive/" + b + "/dir", "/select/" + b + "/?p=secret.txt", "/job/b",
		"/s/b-latest/", "/raw/b-latest/secret.txt", "/s/" + strings.Repeat("b1", 32) + "/",
		"/diff?a=b1b1b1b1&b=a1a1a1a1", "/diff?a=b1b1b1b1&b=b1b1b1b1"} {
		resp, body := alice.get(p)
		if resp.StatusCode != http.StatusNotFound || bytes.Contains(body, []byte("secret")) {
			t.Errorf("alice GET %s: %s, want 404", p, resp.Status)
		}
	}
	tok := alice.token("/")
	if resp, _ := alice.do("POST", "/select/"+b+"/", url.Values{"csrf": {tok}, "p": {"secret.txt"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("alice POST selection of job b: %s, want 404", resp.Status)
	}
	root := loggedIn(t, f.srv.URL, "root", "root-pw")
	if resp, body := root.get("/raw/" + b + "/secret.txt"); resp.StatusCode != 200 || string(body) != "job b's secret" {
		t.Errorf("root GET job b's file: %s %q", resp.Status, body)
	}
}

func TestAnonymous(t *testing.T) {
	f := newFake(t, func(o *webui.Options) { o.Anonymous = true })
	c := newClient(t, f.srv.URL)
	if resp, body := c.get("/raw/b1b1b1b1b1b1/secret.txt"); resp.StatusCode != 200 || string(body) != "job b's secret" {
		t.Errorf("anonymous download: %s", resp.Status)
	}
	tok := c.token("/s/a1a1a1a1a1a1/docs")
	if resp, _ := c.do("POST", "/select/a1a1a1a1a1a1/docs", url.Values{"p": {"readme.txt"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous POST without a token: %s, want 403", resp.Status)
	}
	if resp, _ := c.do("POST", "/select/a1a1a1a1a1a1/docs", url.Values{"p": {"readme.txt"}, "csrf": {tok}}); resp.StatusCode != 200 {
		t.Errorf("anonymous POST with its token: %s", resp.Status)
	}
}

func TestContentDisposition(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	for _, tc := range []struct{ path, ascii, ext string }{
		{"docs/日本語/ファイル.txt", `filename="____.txt"`, `filename*=UTF-8''%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt`},
		{"docs/a%20b?c=d&e#f+g", `filename="a_20b?c=d&e#f+g"`, `filename*=UTF-8''a%2520b%3Fc%3Dd&e#f+g`},
		{"docs/new\nline", `filename="new_line"`, `filename*=UTF-8''new%0Aline`},
	} {
		u := escPath("raw", "a1a1a1a1a1a1", tc.path)
		resp, body := c.get(u)
		cd := resp.Header.Get("Content-Disposition")
		if resp.StatusCode != 200 || !strings.HasPrefix(cd, "attachment; ") || !strings.Contains(cd, tc.ascii) || !strings.Contains(cd, tc.ext) {
			t.Errorf("GET %s: %s, Content-Disposition %q", u, resp.Status, cd)
		}
		if want := treeA()[tc.path].Data; !bytes.Equal(body, want) {
			t.Errorf("GET %s: body %q, want %q", u, body, want)
		}
	}
}

// escPath builds a URL like the UI's links: each segment escaped.
func escPath(kind, snap, p string) string {
	if p == "." {
		return "/" + kind + "/" + snap + "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/" + kind + "/" + snap + "/" + strings.Join(segs, "/")
}

func TestRanges(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	want := bigData(3 << 20)
	resp, body := c.get("/raw/a1a1a1a1a1a1/big.bin", "Range", "bytes=1000-1999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[1000:2000]) {
		t.Fatalf("range: %s, %d bytes", resp.Status, len(body))
	}
	if cr := resp.Header.Get("Content-Range"); cr != fmt.Sprintf("bytes 1000-1999/%d", len(want)) {
		t.Errorf("Content-Range %q", cr)
	}
	etag := resp.Header.Get("ETag")
	if len(etag) != 66 {
		t.Errorf("ETag %q, want the quoted content id", etag)
	}
	// Resuming: the rest, if the file is still the same.
	resp, body = c.get("/raw/a1a1a1a1a1a1/big.bin", "Range", "bytes=2000000-", "If-Range", etag)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[2000000:]) {
		t.Errorf("resume with If-Range: %s, %d bytes", resp.Status, len(body))
	}
	resp, body = c.get("/raw/a1a1a1a1a1a1/big.bin", "Range", "bytes=2000000-", "If-Range", `"other"`)
	if resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Errorf("If-Range with another ETag: %s, %d bytes, want the whole file", resp.Status, len(body))
	}
	if resp, _ = c.get("/raw/a1a1a1a1a1a1/big.bin", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", resp.Status)
	}
	if resp, _ = c.get("/raw/a1a1a1a1a1a1/big.bin", "Range", "bytes=99999999-"); resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("range past the end: %s", resp.Status)
	}
}

// zipEntry is what an archive says about one entry.
type zipEntry struct {
	mode  fs.FileMode
	mtime time.Time
	data  string
}

func readZip(t *testing.T, b []byte) map[string]zipEntry {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("zip: %v", err)
	}
	out := map[string]zipEntry{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("zip entry %s: %v", f.Name, err)
		}
		out[f.Name] = zipEntry{f.Mode(), f.Modified, string(data)}
	}
	return out
}

func readTarGz(t *testing.T, b []byte) map[string]zipEntry {
	t.Helper()
	gz, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	out := map[string]zipEntry{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeSymlink {
			data = []byte(h.Linkname)
		}
		out[h.Name] = zipEntry{h.FileInfo().Mode(), h.ModTime, string(data)}
	}
	return out
}

// wantArchive lists what an archive of dir in tree must hold, under top.
func wantArchive(tree fstest.MapFS, dir, top string) map[string]zipEntry {
	want := map[string]zipEntry{top + "/": {fs.ModeDir | 0o755, time.Time{}, ""}}
	for p, mf := range tree {
		rel, ok := strings.CutPrefix(p, dir+"/")
		if !ok {
			continue
		}
		name := top + "/" + rel
		if mf.Mode.IsDir() {
			name += "/"
		}
		want[name] = zipEntry{mf.Mode, mf.ModTime, string(mf.Data)}
		for d := path_dir(rel); d != "."; d = path_dir(d) {
			if _, ok := want[top+"/"+d+"/"]; !ok {
				want[top+"/"+d+"/"] = zipEntry{fs.ModeDir | 0o555, time.Time{}, ""}
			}
		}
	}
	return want
}

func path_dir(p string) string {
	i := strings.LastIndex(p, "/")
	if i < 0 {
		return "."
	}
	return p[:i]
}

func checkArchive(t *testing.T, kind string, got, want map[string]zipEntry) {
	t.Helper()
	var names []string
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: %q missing (have %q)", kind, name, names)
			continue
		}
		if g.data != w.data {
			t.Errorf("%s: %q holds %d bytes, want %d", kind, name, len(g.data), len(w.data))
		}
		if w.mode&fs.ModeDir == 0 && g.mode != w.mode {
			t.Errorf("%s: %q mode %v, want %v", kind, name, g.mode, w.mode)
		}
		if g.mode.IsDir() != w.mode.IsDir() {
			t.Errorf("%s: %q dir %v, want %v", kind, name, g.mode.IsDir(), w.mode.IsDir())
		}
		// zip keeps seconds (extended timestamp), PAX tar nanoseconds.
		prec := time.Second
		if kind == "tar.gz" {
			prec = time.Nanosecond
		}
		if !w.mtime.IsZero() && !g.mtime.Truncate(prec).Equal(w.mtime.Truncate(prec)) {
			t.Errorf("%s: %q mtime %v, want %v", kind, name, g.mtime, w.mtime)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected entry %q", kind, name)
		}
	}
}

func TestArchiveDirectory(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	want := wantArchive(treeA(), "docs", "docs")
	resp, body := c.get("/archive/a1a1a1a1a1a1/docs")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), `filename="docs.zip"`) {
		t.Fatalf("zip: %s %v", resp.Status, resp.Header)
	}
	checkArchive(t, "zip", readZip(t, body), want)
	resp, body = c.get("/archive/a1a1a1a1a1a1/docs?format=tar.gz")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), `filename="docs.tar.gz"`) {
		t.Fatalf("tar.gz: %s", resp.Status)
	}
	checkArchive(t, "tar.gz", readTarGz(t, body), want)
	// A directory reached through a link is the directory itself.
	resp, body = c.get("/archive/a1a1a1a1a1a1/docs/linkdir")
	if resp.StatusCode != 200 {
		t.Fatalf("archive through a link: %s", resp.Status)
	}
	checkArchive(t, "zip", readZip(t, body), wantArchive(treeA(), "docs/sub", "sub"))
	if resp, _ := c.get("/archive/a1a1a1a1a1a1/docs?format=rar"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("format=rar: %s, want 400", resp.Status)
	}
	// The whole snapshot.
	resp, body = c.get("/archive/a1a1a1a1a1a1/")
	if resp.StatusCode != 200 {
		t.Fatalf("root archive: %s", resp.Status)
	}
	if got := readZip(t, body); got["snapshot-a1a1a1a1a1a1/big.bin"].data != string(bigData(3<<20)) {
		t.Errorf("root archive lacks big.bin")
	}
}

func TestArchiveSelection(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	tree := treeA()
	full := wantArchive(tree, "docs", "x")
	want := map[string]zipEntry{}
	for name, e := range full {
		rel := strings.TrimPrefix(name, "x/")
		if rel == "readme.txt" || rel == "new\nline" || rel == "link" || strings.HasPrefix(rel, "sub/") || strings.HasPrefix(rel, "日本語/") {
			want[rel] = e
		}
	}
	tok := c.token("/s/a1a1a1a1a1a1/docs")
	form := url.Values{"csrf": {tok}, "p": {"readme.txt", "new\nline", "sub", "link", "日本語", "readme.txt"}}
	resp, body := c.do("POST", "/select/a1a1a1a1a1a1/docs", form)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "docs-selection.zip") {
		t.Fatalf("selection: %s %s", resp.Status, body)
	}
	checkArchive(t, "zip", readZip(t, body), want)
	form.Set("format", "tar.gz")
	resp, body = c.do("POST", "/select/a1a1a1a1a1a1/docs", form)
	if resp.StatusCode != 200 {
		t.Fatalf("selection tar.gz: %s", resp.Status)
	}
	checkArchive(t, "tar.gz", readTarGz(t, body), want)
	q := url.Values{"p": form["p"]}
	resp, body = c.get("/select/a1a1a1a1a1a1/docs?" + q.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("GET selection: %s", resp.Status)
	}
	checkArchive(t, "zip", readZip(t, body), want)
	for _, bad := range []string{"p=..", "p=sub%2Fdeep", "p=", "p=missing", "", "p=readme.txt&format=7z"} {
		resp, _ := c.get("/select/a1a1a1a1a1a1/docs?" + bad)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
			t.Errorf("selection %q: %s, want 400 or 404", bad, resp.Status)
		}
	}
}

// TestCorruptAbortsArchive: a read error after the archive has started
// breaks the transfer; what arrived does not open as a valid archive.
func TestCorruptAbortsArchive(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	for _, u := range []string{"/archive/a2a2a2a2a2a2/cdir", "/archive/a2a2a2a2a2a2/cdir?format=tar.gz",
		"/select/a2a2a2a2a2a2/?p=big.bin&p=corrupt.bin", "/raw/a2a2a2a2a2a2/corrupt.bin"} {
		resp, err := c.c.Get(f.srv.URL + u)
		if err != nil {
			continue // aborted before the headers left the buffers: broken too
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("GET %s: %s, %d bytes read without an error", u, resp.Status, len(body))
		}
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Logf("GET %s: %v", u, err)
		}
		if strings.Contains(u, "format=tar.gz") {
			if gz, err := gzip.NewReader(bytes.NewReader(body)); err == nil {
				if _, err := io.Copy(io.Discard, gz); err == nil {
					t.Errorf("GET %s: the partial body is a complete gzip stream", u)
				}
			}
		} else if !strings.HasPrefix(u, "/raw/") {
			if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err == nil {
				t.Errorf("GET %s: the partial body opens as a zip", u)
			}
		}
	}
	// The error page before anything is sent: the file page of a corrupt
	// file reads its start (fine) and the server still answers.
	if resp, _ := c.get("/s/a2a2a2a2a2a2/corrupt.bin"); resp.StatusCode != 200 {
		t.Errorf("file page of a corrupt file (first MiB is good): %s", resp.Status)
	}
}

func TestBadRequests(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	for u, want := range map[string]int{
		"/s/a1a1a1a1a1a1/docs%2F..%2F..%2Fetc":   400,
		"/raw/a1a1a1a1a1a1/docs%2F..%2Fbig.bin":  400,
		"/raw/a1a1a1a1a1a1/docs%2F%2Freadme.txt": 400,
		"/s/a1a1a1a1a1a1/nope":                   404,
		"/s/zzzzzzzzzzzz/":                       404,
		"/s/a1/":                                 404,
		"/raw/a1a1a1a1a1a1/docs":                 400,
		"/raw/a1a1a1a1a1a1/docs/link":            200,
		"/raw/a1a1a1a1a1a1/nope":                 404,
		"/archive/a1a1a1a1a1a1/nope":             404,
		"/diff?a=a1a1a1a1&b=b1b1b1b1":            400,
		"/diff?a=a1a1a1a1":                       400,
		"/diff?a=zzzzzzzz&b=a1a1a1a1":            404,
		"/job/nope":                              404,
		"/s/a1a1a1a1a1a1/docs?after=%FF%FE":      200,
		"/s/a1a1a1a1a1a1/docs?after=sub/deep/":   200,
		"/nope":                                  404,
	} {
		resp, body := c.get(u)
		if resp.StatusCode != want {
			t.Errorf("GET %s: %s, want %d: %.200s", u, resp.Status, want, body)
		}
	}
}

func TestDirectoryPaging(t *testing.T) {
	tree := fstest.MapFS{}
	const n = 2500
	for i := range n {
		tree[fmt.Sprintf("big/f%05d", i)] = &fstest.MapFile{Data: []byte("x"), ModTime: t0}
		if i%500 == 0 {
			tree[fmt.Sprintf("big/d%05d/inner", i)] = &fstest.MapFile{Data: []byte("in"), ModTime: t0}
		}
	}
	cat := vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(0xcc, "p", t0), Files: tree})
	srv := newServer(t, cat, webui.Options{Anonymous: true, PageSize: 1000})
	c := newClient(t, srv)
	var seen []string
	next := "/s/cccccccccccc/big"
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("too many pages")
		}
		resp, body := c.get(next)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %s", next, resp.Status)
		}
		rows := rowNames(body)
		if len(rows) > 1000 {
			t.Fatalf("page of %d rows", len(rows))
		}
		seen = append(seen, rows...)
		next = ""
		if m := nextRE.FindSubmatch(body); m != nil {
			next = htmlUnescape(string(m[1]))
		}
	}
	if len(seen) != n+5 || !sort.StringsAreSorted(seen) {
		t.Errorf("paging yields %d names (sorted %v), want %d", len(seen), sort.StringsAreSorted(seen), n+5)
	}
	if seen[0] != "d00000" || seen[5] != "f00000" {
		t.Errorf("first names %q", seen[:6])
	}
	_, body := c.get("/s/cccccccccccc/big?q=F0249")
	if rows := rowNames(body); len(rows) != 10 || rows[0] != "f02490" {
		t.Errorf("filter F0249: %q", rows)
	}
}

func TestSessionExpires(t *testing.T) {
	f := newFake(t, func(o *webui.Options) { o.SessionTTL = 300 * time.Millisecond })
	c := loggedIn(t, f.srv.URL, "alice", "alice-pw")
	for range 3 { // use keeps it alive
		time.Sleep(150 * time.Millisecond)
		if resp, _ := c.get("/"); resp.StatusCode != 200 {
			t.Fatalf("session in use expired: %s", resp.Status)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if resp, _ := c.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("idle session still valid: %s", resp.Status)
	}
}
