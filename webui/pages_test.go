package webui_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func mustContain(t *testing.T, what string, body []byte, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !bytes.Contains(body, []byte(p)) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

func TestSnapshotsPage(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	_, body := c.get("/")
	mustContain(t, "snapshots page", body, "a1a1a1a1a1a1", "a2a2a2a2a2a2", "b1b1b1b1b1b1", `<span class="sig signed">signed by 0123abcd</span>`, `<span class="sig trusted">signed by 4567cdef, trusted</span>`, `<span class="sig unsigned">unsigned</span>`, `href="/job/a"`, "weekly")
	// Newest first by default, oldest first with sort=time.
	if i, j := bytes.Index(body, []byte("a2a2a2a2a2a2")), bytes.Index(body, []byte("a1a1a1a1a1a1")); i > j {
		t.Error("default order is not newest first")
	}
	_, body = c.get("/?sort=time")
	if i, j := bytes.Index(body, []byte("a2a2a2a2a2a2")), bytes.Index(body, []byte("a1a1a1a1a1a1")); i < j {
		t.Error("sort=time is not oldest first")
	}
	_, body = c.get("/?job=b")
	if bytes.Contains(body, []byte("a1a1a1a1a1a1")) || !bytes.Contains(body, []byte("b1b1b1b1b1b1")) {
		t.Error("job filter")
	}
	_, body = c.get("/?tag=weekly")
	if bytes.Contains(body, []byte(`data-id="a1a1`)) || !bytes.Contains(body, []byte(`data-id="a2a2`)) {
		t.Error("tag filter")
	}
}

var pointRE = regexp.MustCompile(`<circle class="pt pt-logical"`)

func TestJobPageAndDiff(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	resp, body := c.get("/job/a")
	if resp.StatusCode != 200 {
		t.Fatal(resp.Status)
	}
	if n := len(pointRE.FindAll(body, -1)); n != 2 {
		t.Errorf("job chart has %d points, want 2", n)
	}
	// a1: 1000 logical / 500 stored; a2: 2000 / 100.
	mustContain(t, "job page", body, "2.00×", "20.00×", "<svg", `id="diff-form"`)
	_, body = c.get("/diff?a=a2a2a2a2a2a2&b=a1a1a1a1a1a1")
	mustContain(t, "diff", body, "1 removed", "changed", "image.png", "docs/added.txt", "docs/readme.txt")
	mustContain(t, "diff", body, `<tr class="added"><td>added</td><td><a href="/s/a2a2a2a2a2a2/docs/added.txt">`)
	if strings.Contains(string(body), ">docs/sub/deep/x.bin<") {
		t.Error("diff lists an unchanged file")
	}
}

func TestDirAndFilePages(t *testing.T) {
	f := newFake(t, nil)
	c := loggedIn(t, f.srv.URL, "root", "root-pw")
	_, body := c.get("/s/a2a2a2a2a2a2/docs")
	mustContain(t, "dir page", body, `id="ingest-errors"`, "/docs/unreadable", "permission denied", `id="summary"`,
		`href="/s/a2a2a2a2a2a2/docs/a%2520b%3Fc=d&amp;e%23f&#43;g"`, `href="/raw/a2a2a2a2a2a2/docs/new%0Aline"`, "new␤line",
		`href="/s/a2a2a2a2a2a2/docs/%E6%97%A5%E6%9C%AC%E8%AA%9E"`, "Largest subdirectories")
	_, body = c.get("/s/a2a2a2a2a2a2/")
	mustContain(t, "root page", body, "Where the space goes", "docs/", "(files directly here)")
	// A linked directory redirects to the directory itself.
	resp, _ := c.get("/s/a1a1a1a1a1a1/docs/linkdir/deep")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/s/a1a1a1a1a1a1/docs/sub/deep" {
		t.Errorf("through a link: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	_, body = c.get("/s/a1a1a1a1a1a1/docs/readme.txt")
	mustContain(t, "text file page", body, `id="text-preview">hello, readme`, `id="content-id"`, "-rw-r--r--", `href="/raw/a1a1a1a1a1a1/docs/readme.txt"`)
	_, body = c.get("/s/a1a1a1a1a1a1/image.png")
	mustContain(t, "image page", body, `<img src="/raw/a1a1a1a1a1a1/image.png?inline=1"`)
	resp, _ = c.get("/raw/a1a1a1a1a1a1/image.png?inline=1")
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "image/png" || !strings.HasPrefix(cd, "inline;") {
		t.Errorf("inline image: %s %s", ct, cd)
	}
	resp, _ = c.get("/raw/a1a1a1a1a1a1/docs/readme.txt?inline=1")
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("inline=1 on text (never rendered as a page): %s", cd)
	}
	_, body = c.get("/s/a1a1a1a1a1a1/big.bin")
	if bytes.Contains(body, []byte("text-preview")) || bytes.Contains(body, []byte("<img")) {
		t.Error("binary file previewed")
	}
	_, body = c.get("/s/a1a1a1a1a1a1/docs/link")
	mustContain(t, "symlink page", body, "readme.txt", `href="/s/a1a1a1a1a1a1/docs/readme.txt"`)
}
