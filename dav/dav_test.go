package dav_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/dav"
)

// TestDAV runs every read method against the fake catalog and a real
// repository holding the tricky tree.
func TestDAV(t *testing.T) {
	o := dav.Options{Users: usersFor(t)}
	for _, mk := range []func(testing.TB, dav.Options) *backend{newFake, newEngine} {
		b := mk(t, o)
		t.Run(b.name, func(t *testing.T) {
			for _, tc := range []struct {
				name string
				fn   func(*testing.T, *backend)
			}{
				{"options", testOptions},
				{"root", testRoot},
				{"props", testProps},
				{"allprop-propname", testAllpropPropname},
				{"depth", testDepth},
				{"bad-bodies", testBadBodies},
				{"tree", testTree},
				{"get", testGet},
				{"writes-refused", testWrites},
				{"traversal", testTraversal},
				{"hidden", testHidden},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
			}
		})
	}
}

func testOptions(t *testing.T, b *backend) {
	c := b.client(t)
	// "OPTIONS *" never gets here: net/http answers it itself.
	for _, p := range []string{"/", b.root + "/", b.root + "/" + escape("%+#?&")} {
		resp, _ := c.do("OPTIONS", p, nil, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("OPTIONS %s: %s", p, resp.Status)
		}
		if got := resp.Header.Get("DAV"); got != "1" {
			t.Errorf("OPTIONS %s: DAV %q, want 1 (read-only, no locks)", p, got)
		}
		allow := resp.Header.Get("Allow")
		for _, m := range []string{"GET", "HEAD", "PROPFIND", "OPTIONS"} {
			if !strings.Contains(allow, m) {
				t.Errorf("Allow %q lacks %s", allow, m)
			}
		}
		for _, m := range []string{"PUT", "DELETE", "MKCOL", "LOCK", "PROPPATCH", "MOVE", "COPY"} {
			if strings.Contains(allow, m) {
				t.Errorf("Allow %q offers %s", allow, m)
			}
		}
	}
}

func testRoot(t *testing.T, b *backend) {
	c := b.client(t)
	ms := c.propfind("/", "1", "")
	var hrefs []string
	for h := range ms {
		hrefs = append(hrefs, h)
	}
	sort.Strings(hrefs)
	for _, want := range []string{"/", b.root + "/", b.short + "/"} {
		r, ok := ms[want]
		if !ok {
			t.Fatalf("root listing %v lacks %s", hrefs, want)
		}
		if rt := r["200 OK"][dn("resourcetype")]; !strings.Contains(rt, "collection") {
			t.Errorf("%s: resourcetype %q", want, rt)
		}
		if want != "/" && r["200 OK"][dn("displayname")] != strings.Trim(want, "/") {
			t.Errorf("%s: displayname %q", want, r["200 OK"][dn("displayname")])
		}
	}
	for _, h := range hrefs {
		if h != "/" && !strings.HasSuffix(h, "-latest/") && !strings.HasPrefix(h, "/snap-") {
			t.Errorf("unexpected root entry %s", h)
		}
	}
	// The alias and the id name the same tree.
	a, s := c.propfind(b.root+"/", "1", ""), c.propfind(b.short+"/", "1", "")
	if len(a) != len(s) || len(a) < 5 {
		t.Errorf("%s has %d entries, %s %d", b.root, len(a), b.short, len(s))
	}
}

// testProps checks every property of a file and of a collection, depth 0,
// against what GET says.
func testProps(t *testing.T, b *backend) {
	c := b.client(t)
	name := "%+#?&"
	p := b.root + "/" + escape(name)
	body := `<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getcontentlength/><D:getlastmodified/>` +
		`<D:creationdate/><D:getetag/><D:getcontenttype/><D:resourcetype/><D:displayname/>` +
		`<X:nope xmlns:X="urn:x"/><D:lockdiscovery/></D:prop></D:propfind>`
	ms := c.propfind(p, "0", body)
	if len(ms) != 1 {
		t.Fatalf("depth 0 gave %d responses", len(ms))
	}
	r, ok := ms[b.root+"/%25%2B%23%3F%26"]
	if !ok {
		t.Fatalf("href not percent-encoded as expected: %v", ms)
	}
	ok200, nf := r["200 OK"], r["404 Not Found"]
	resp, data := c.do("GET", p, nil, "")
	if resp.StatusCode != 200 || !bytes.Equal(data, b.files[name]) {
		t.Fatalf("GET %s: %s %q", p, resp.Status, data)
	}
	want := map[string]string{
		"getcontentlength": fmt.Sprint(len(b.files[name])),
		"getlastmodified":  resp.Header.Get("Last-Modified"),
		"getetag":          resp.Header.Get("ETag"),
		"getcontenttype":   "application/octet-stream",
		"resourcetype":     "",
		"displayname":      "%+#?&amp;",
	}
	for k, v := range want {
		if got, ok := ok200[dn(k)]; !ok || got != v {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if len(resp.Header.Get("ETag")) < 66 || !strings.HasPrefix(resp.Header.Get("ETag"), `"`) {
		t.Errorf("ETag %q is not a quoted content id", resp.Header.Get("ETag"))
	}
	if _, err := time.Parse(time.RFC3339, ok200[dn("creationdate")]); err != nil {
		t.Errorf("creationdate %q: %v", ok200[dn("creationdate")], err)
	}
	if _, ok := nf[xml.Name{Space: "urn:x", Local: "nope"}]; !ok {
		t.Errorf("unknown property not in a 404 propstat: %v", r)
	}
	if _, ok := nf[dn("lockdiscovery")]; !ok {
		t.Errorf("lockdiscovery not in a 404 propstat: %v", r)
	}
	// The ETag is the content id: stable across requests and across the
	// two names of the snapshot.
	ms2 := c.propfind(b.short+"/"+escape(name), "0", body)
	if got := ms2[b.short+"/%25%2B%23%3F%26"]["200 OK"][dn("getetag")]; got != want["getetag"] {
		t.Errorf("etag via %s: %q, via %s: %q", b.short, got, b.root, want["getetag"])
	}

	// A collection: no length, type or etag; a collection resourcetype.
	ms = c.propfind(b.root+"/"+escape("日本語"), "0", body)
	r = ms[b.root+"/%E6%97%A5%E6%9C%AC%E8%AA%9E/"]
	if r == nil {
		t.Fatalf("collection href: %v", ms)
	}
	if !strings.Contains(r["200 OK"][dn("resourcetype")], "collection") || r["200 OK"][dn("displayname")] != "日本語" {
		t.Errorf("collection props: %v", r)
	}
	for _, k := range []string{"getcontentlength", "getetag", "getcontenttype"} {
		if _, ok := r["404 Not Found"][dn(k)]; !ok {
			t.Errorf("collection %s not reported missing: %v", k, r)
		}
	}
	if _, err := http.ParseTime(r["200 OK"][dn("getlastmodified")]); err != nil {
		t.Errorf("getlastmodified: %v", err)
	}
}

func testAllpropPropname(t *testing.T, b *backend) {
	c := b.client(t)
	p := b.root + "/" + escape("hard1")
	if b.name == "fake" {
		p = b.root + "/hello.txt"
	}
	all := []string{"getcontentlength", "getlastmodified", "creationdate", "getetag", "getcontenttype", "resourcetype", "displayname"}
	for _, body := range []string{"", `<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>`,
		`<D:propfind xmlns:D="DAV:"><D:allprop/><D:include><X:y xmlns:X="urn:x"/></D:include></D:propfind>`} {
		ms := c.propfind(p, "0", body)
		for _, r := range ms {
			for _, k := range all {
				if _, ok := r["200 OK"][dn(k)]; !ok {
					t.Errorf("allprop %q lacks %s: %v", body, k, r)
				}
			}
			if strings.Contains(body, "include") {
				if _, ok := r["404 Not Found"][xml.Name{Space: "urn:x", Local: "y"}]; !ok {
					t.Errorf("included unknown property not reported: %v", r)
				}
			}
		}
	}
	ms := c.propfind(p, "0", `<propfind xmlns="DAV:"><propname/></propfind>`)
	for _, r := range ms {
		for _, k := range all {
			if v, ok := r["200 OK"][dn(k)]; !ok || v != "" {
				t.Errorf("propname %s: %q %v", k, v, ok)
			}
		}
	}
}

func testDepth(t *testing.T, b *backend) {
	c := b.client(t)
	for _, d := range []string{"infinity", "Infinity", ""} {
		resp, data := c.do("PROPFIND", b.root+"/", map[string]string{"Depth": d}, "")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(data), "propfind-finite-depth") {
			t.Errorf("Depth %q: %s %s", d, resp.Status, data)
		}
	}
	for _, d := range []string{"2", "one", "-1"} {
		resp, _ := c.do("PROPFIND", b.root+"/", map[string]string{"Depth": d}, "")
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("Depth %q: %s", d, resp.Status)
		}
	}
	// Depth 0 on a collection is the collection alone; depth 1 adds its
	// direct children only.
	if ms := c.propfind(b.root+"/", "0", ""); len(ms) != 1 {
		t.Errorf("depth 0: %d responses", len(ms))
	}
	ms := c.propfind(b.root+"/", "1", "")
	for h := range ms {
		rest := unhref(t, b.root, h)
		if strings.Contains(rest, "/") {
			t.Errorf("depth 1 returned a grandchild %s", h)
		}
	}
	// Depth 1 on a file is the file.
	if ms := c.propfind(b.root+"/"+escape("%+#?&"), "1", ""); len(ms) != 1 {
		t.Errorf("depth 1 on a file: %d responses", len(ms))
	}
}

func testBadBodies(t *testing.T, b *backend) {
	c := b.client(t)
	for _, body := range []string{
		"<foo>",
		`<D:propfind xmlns:D="DAV:"><D:prop><bar:foo xmlns:bar=""/></D:propfind>`,
		`<D:nope xmlns:D="DAV:"/>`,
		`<propfind/>`,
		`<D:propfind xmlns:D="DAV:"/>`,
		`<D:propfind xmlns:D="DAV:"><D:allprop/><D:propname/></D:propfind>`,
		`<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop><D:propname/></D:propfind>`,
		`<D:propfind xmlns:D="DAV:"><D:include/></D:propfind>`,
		`<D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind><x/>`,
		"text",
	} {
		resp, data := c.do("PROPFIND", b.root+"/", map[string]string{"Depth": "0"}, body)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("body %q: %s %s", body, resp.Status, data)
		}
	}
}

// testTree walks the snapshot with PROPFIND depth 1 from its top, decoding
// every href, and GETs every file: the names and bytes must be those of
// the source, with hidden entries absent.
func testTree(t *testing.T, b *backend) {
	c := b.client(t)
	files, dirs := map[string]int64{}, map[string]bool{}
	queue := []string{""}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		p := b.root + "/"
		if dir != "" {
			p += escape(dir) + "/"
		}
		ms := c.propfind(p, "1", "")
		for h, r := range ms {
			name := unhref(t, b.root, h)
			if name == dir {
				continue
			}
			props := r["200 OK"]
			base := name[strings.LastIndex(name, "/")+1:]
			if got, want := text(t, props[dn("displayname")]), strings.ReplaceAll(base, "\x01", "\uFFFD"); got != want {
				t.Errorf("displayname %q, want %q", got, want)
			}
			if strings.Contains(props[dn("resourcetype")], "collection") {
				if !strings.HasSuffix(h, "/") {
					t.Errorf("collection href %q lacks its slash", h)
				}
				dirs[name] = true
				queue = append(queue, name)
				continue
			}
			var n int64
			fmt.Sscan(props[dn("getcontentlength")], &n)
			files[name] = n
		}
	}
	for name, data := range b.files {
		n, ok := files[name]
		if !ok {
			t.Errorf("file %q not listed", name)
			continue
		}
		if n != int64(len(data)) {
			t.Errorf("%q: getcontentlength %d, want %d", name, n, len(data))
		}
		resp, got := c.do("GET", b.root+"/"+escape(name), nil, "")
		if resp.StatusCode != 200 || !bytes.Equal(got, data) {
			t.Errorf("GET %q: %s, %d bytes, want %d", name, resp.Status, len(got), len(data))
		}
	}
	for name := range files {
		if _, ok := b.files[name]; !ok && !strings.HasPrefix(name, "corrupt") {
			t.Errorf("unexpected file %q listed", name)
		}
	}
	for name := range b.dirs {
		if !dirs[name] {
			t.Errorf("directory %q not listed", name)
		}
	}
	for name := range dirs {
		if !b.dirs[name] {
			t.Errorf("unexpected directory %q listed", name)
		}
	}
	if len(files) < 10 || len(dirs) < 3 {
		t.Errorf("only %d files and %d dirs seen", len(files), len(dirs))
	}
}

func (b *backend) bigFile() string {
	if b.name == "fake" {
		return "dir/sub/deep.bin"
	}
	return "big.bin"
}

func testGet(t *testing.T, b *backend) {
	c := b.client(t)
	name := b.bigFile()
	want := b.files[name]
	p := b.root + "/" + escape(name)
	resp, data := c.do("GET", p, nil, "")
	if resp.StatusCode != 200 || !bytes.Equal(data, want) {
		t.Fatalf("GET: %s, %d bytes", resp.Status, len(data))
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Errorf("GET headers: %v", resp.Header)
	}
	resp, data = c.do("HEAD", p, nil, "")
	if resp.StatusCode != 200 || len(data) != 0 || resp.ContentLength != int64(len(want)) || resp.Header.Get("ETag") != etag {
		t.Errorf("HEAD: %s, %d body bytes, length %d", resp.Status, len(data), resp.ContentLength)
	}
	resp, data = c.do("GET", p, map[string]string{"Range": "bytes=10-19"}, "")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(data, want[10:20]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 10-19/%d", len(want)) {
		t.Errorf("Range: %s %q %v", resp.Status, data, resp.Header)
	}
	resp, data = c.do("GET", p, map[string]string{"Range": "bytes=-5"}, "")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(data, want[len(want)-5:]) {
		t.Errorf("suffix Range: %s %q", resp.Status, data)
	}
	resp, _ = c.do("GET", p, map[string]string{"Range": fmt.Sprintf("bytes=%d-", len(want)+10)}, "")
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("Range past the end: %s", resp.Status)
	}
	resp, data = c.do("GET", p, map[string]string{"If-None-Match": etag}, "")
	if resp.StatusCode != http.StatusNotModified || len(data) != 0 {
		t.Errorf("If-None-Match: %s", resp.Status)
	}
	resp, _ = c.do("GET", p, map[string]string{"If-None-Match": `"other"`}, "")
	if resp.StatusCode != 200 {
		t.Errorf("If-None-Match other: %s", resp.Status)
	}
	resp, _ = c.do("GET", p, map[string]string{"If-Modified-Since": lm}, "")
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %s", resp.Status)
	}
	resp, _ = c.do("GET", p, map[string]string{"If-Modified-Since": "Mon, 02 Jan 2000 15:04:05 GMT"}, "")
	if resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since old: %s", resp.Status)
	}
	resp, _ = c.do("GET", p, map[string]string{"If-Range": `"other"`, "Range": "bytes=0-0"}, "")
	if resp.StatusCode != 200 {
		t.Errorf("If-Range mismatch: %s", resp.Status)
	}
	// A collection has no body to GET.
	resp, _ = c.do("GET", b.root+"/", nil, "")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET on a collection: %s", resp.Status)
	}
}

// testWrites sends every write method at existing and new paths: all are
// refused and neither the tree nor the repository folder changes.
func testWrites(t *testing.T, b *backend) {
	c := b.client(t)
	var before string
	if b.repo != "" {
		before = dirHash(t, b.repo)
	}
	existing := b.root + "/" + escape("%+#?&")
	for _, m := range []string{"PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK", "POST"} {
		for _, p := range []string{existing, b.root + "/new-file", b.root + "/", "/", "/new-root/"} {
			hdr := map[string]string{"Destination": b.url + b.root + "/copy", "Overwrite": "T", "Lock-Token": "<opaquelocktoken:x>"}
			body := ""
			switch m {
			case "PUT":
				body = "new content"
			case "PROPPATCH":
				body = `<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><Z:a xmlns:Z="urn:z">1</Z:a></D:prop></D:set></D:propertyupdate>`
			case "LOCK":
				body = `<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>`
			}
			resp, _ := c.do(m, p, hdr, body)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %s, want 403", m, p, resp.Status)
			}
		}
	}
	resp, data := c.do("GET", existing, nil, "")
	if resp.StatusCode != 200 || string(data) != "specials" {
		t.Errorf("after refused writes: %s %q", resp.Status, data)
	}
	for _, p := range []string{b.root + "/new-file", b.root + "/copy"} {
		if resp, _ := c.do("GET", p, nil, ""); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s after refused writes: %s", p, resp.Status)
		}
	}
	if b.repo != "" && dirHash(t, b.repo) != before {
		t.Errorf("the repository folder changed")
	}
	resp, _ = c.do("TRACE", b.root+"/", nil, "")
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("TRACE: %s", resp.Status)
	}
}

func testTraversal(t *testing.T, b *backend) {
	c := b.client(t)
	for _, p := range []string{
		b.root + "/../" + b.short + "/",
		b.root + "/nested/../../etc/passwd",
		b.root + "/%2e%2e/" + strings.TrimPrefix(b.short, "/") + "/",
		b.root + "/%2E%2E/%2E%2E/etc/passwd",
		b.root + "/.%2e/x",
		b.root + "/./x",
		b.root + "/dir%2fsub",
		b.root + "/nested%2Fa",
		b.root + "/%00",
		b.root + "/a%zz",
		b.root + "/..%5c..%5cetc",
	} {
		for _, m := range []string{"GET", "PROPFIND"} {
			resp, data := c.do(m, p, map[string]string{"Depth": "0"}, "")
			if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %s %.200s", m, p, resp.Status, data)
			}
		}
	}
}

// testHidden: links that escape or dangle, special files and unknown roots
// are not found; a link inside the snapshot is followed.
func testHidden(t *testing.T, b *backend) {
	c := b.client(t)
	for _, p := range []string{"/nope/", "/snap-000000000000/", "/nope-latest/", b.root + "/link-abs",
		b.root + "/link-dangling", b.root + "/fifo", b.root + "/no-such-file"} {
		for _, m := range []string{"GET", "PROPFIND"} {
			if resp, _ := c.do(m, p, map[string]string{"Depth": "0"}, ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %s, want 404", m, p, resp.Status)
			}
		}
	}
	target := "hello.txt"
	if b.name == "engine" {
		target = "nested/a/b/c/d/deep.txt"
	}
	resp, data := c.do("GET", b.root+"/link-rel", nil, "")
	if resp.StatusCode != 200 || !bytes.Equal(data, b.files[target]) {
		t.Errorf("GET link-rel: %s %q", resp.Status, data)
	}
	ms := c.propfind(b.root+"/link-dir", "0", "")
	for _, r := range ms {
		if !strings.Contains(r["200 OK"][dn("resourcetype")], "collection") {
			t.Errorf("a link to a directory is not a collection: %v", r)
		}
	}
}

// text decodes the inner XML of an element holding character data.
func text(t *testing.T, inner string) string {
	t.Helper()
	var s string
	if err := xml.Unmarshal([]byte("<x>"+inner+"</x>"), &s); err != nil {
		t.Fatalf("%q: %v", inner, err)
	}
	return s
}
