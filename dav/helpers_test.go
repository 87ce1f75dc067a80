package dav_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

const (
	testUser = "alice"
	testPass = "correct horse"
)

// backend is a server over one catalog and what its job-latest tree must
// show: every visible file with its bytes, every visible directory.
type backend struct {
	name  string
	url   string // base URL of the server
	root  string // "/JOB-latest" of the snapshot under test
	short string // "/snap-<12 hex>"
	files map[string][]byte
	dirs  map[string]bool
	src   string // source folder, engine only
	repo  string // repository folder, engine only
}

func usersFor(t testing.TB) map[string][]byte {
	h, err := bcrypt.GenerateFromPassword([]byte(testPass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{testUser: h}
}

func serve(t testing.TB, cat vfs.Catalog, o dav.Options) string {
	t.Helper()
	srv := httptest.NewServer(dav.New(cat, o))
	t.Cleanup(srv.Close)
	return srv.URL
}

var fakeTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// fakeFiles is a small tree with the names and links that matter.
func fakeFiles() fstest.MapFS {
	mt := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	f := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s), Mode: 0o644, ModTime: mt} }
	link := func(s string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(s), Mode: fs.ModeSymlink | 0o777, ModTime: mt}
	}
	return fstest.MapFS{
		"hello.txt":                   f("hello, world\n"),
		"\u00e9":                      f("NFC"),
		"e\u0301":                     f("NFD"),
		"%+#?&":                       f("specials"),
		"a%20b?c=d&e#f+g":             f("url-ish"),
		"back\\slash":                 f("backslash"),
		"new\nline":                   f("newline"),
		" sp ace ":                    f("spaces"),
		"ctl\x01char\ttab":            f("control characters XML cannot carry"),
		"quote\"<amp&>":               f("markup"),
		"日本語/ファイル.txt":                f("unicode"),
		"dir/sub/deep.bin":            f(strings.Repeat("0123456789", 1000)),
		"dir/empty":                   {Mode: fs.ModeDir | 0o755, ModTime: mt},
		"link-rel":                    link("hello.txt"),
		"dir/sub/link-up":             link("../../hello.txt"),
		"link-dir":                    link("dir/sub"),
		"link-abs":                    link("/etc/passwd"),
		"link-dangling":               link("no/such/file"),
		"link-escape":                 link("../outside"),
		"dir/sub/loop":                link(".."),
		"fifo":                        {Mode: fs.ModeNamedPipe | 0o644, ModTime: mt},
		"corrupt.bin":                 f(strings.Repeat("x", 300)),
		"corrupt-first.bin":           f(strings.Repeat("y", 300)),
		"dir/sub/deeper/x/y/z/f.json": f(`{"a":1}`),
	}
}

func newFake(t testing.TB, o dav.Options) *backend {
	snap := &vfstest.Snapshot{Info: vfstest.Info(0xab, "job", fakeTime), Files: fakeFiles(),
		Corrupt: map[string]bool{"corrupt.bin": true}, CorruptAfter: 100}
	// A corrupt file whose first byte already fails.
	first := &vfstest.Snapshot{Info: vfstest.Info(0xcd, "first", fakeTime.Add(-time.Hour)), Files: fakeFiles(),
		Corrupt: map[string]bool{"corrupt-first.bin": true}, CorruptAfter: 0}
	cat := vfstest.New(snap, first)
	b := &backend{name: "fake", url: serve(t, cat, o), root: "/job-latest", short: "/snap-" + strings.Repeat("ab", 6)}
	b.files, b.dirs = expectedFS(t, fakeFiles())
	delete(b.files, "corrupt.bin")
	delete(b.files, "corrupt-first.bin") // corrupt in the other snapshot only, but kept out of the generic checks
	return b
}

// newEngine ingests the tricky tree into a real repository.
func newEngine(t testing.TB, o dav.Options) *backend {
	repo, root := enginetest.NewRepo(t)
	src := t.TempDir()
	big := int64(8 << 20)
	if testing.Short() {
		big = 1 << 20
	}
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: big, Many: 30}); err != nil {
		t.Fatal(err)
	}
	s := enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "tricky"})
	b := &backend{name: "engine", url: serve(t, repo, o), root: "/tricky-latest", short: "/snap-" + s.ID.String()[:12],
		src: src, repo: root}
	b.files, b.dirs = expectedFS(t, os.DirFS(src))
	return b
}

// expectedFS is what the WebDAV tree must show of fsys: regular files and
// directories, symlinks followed when they stay inside and do not point at
// an ancestor, everything else hidden. It is computed from the source
// independently of the package's code.
func expectedFS(t testing.TB, fsys fs.FS) (map[string][]byte, map[string]bool) {
	files, dirs := map[string][]byte{}, map[string]bool{}
	var walk func(real, shown string, depth int)
	walk = func(real, shown string, depth int) {
		des, err := fs.ReadDir(fsys, real)
		if err != nil {
			t.Fatal(err)
		}
		for _, de := range des {
			r, s := path.Join(real, de.Name()), path.Join(shown, de.Name())
			info, err := de.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode()&fs.ModeSymlink != 0 {
				target, err := fs.ReadLink(fsys, r)
				if err != nil {
					t.Fatal(err)
				}
				if path.IsAbs(target) {
					continue
				}
				rt := path.Join(real, target)
				if rt == ".." || strings.HasPrefix(rt, "../") {
					continue
				}
				if rt == "." || real == rt || strings.HasPrefix(real+"/", rt+"/") {
					continue // an ancestor: endless
				}
				if info, err = fs.Stat(fsys, rt); err != nil {
					continue
				}
				r = rt
			}
			switch {
			case info.IsDir():
				dirs[s] = true
				if depth < 8 {
					walk(r, s, depth+1)
				}
			case info.Mode().IsRegular():
				data, err := fs.ReadFile(fsys, r)
				if errors.Is(err, fs.ErrPermission) {
					continue // mode 000 when not root: not ingested either
				}
				if err != nil {
					t.Fatal(err)
				}
				files[s] = data
			}
		}
	}
	walk(".", ".", 0)
	return files, dirs
}

// escape percent-encodes a path for a request, segment by segment, the way
// a careful client would.
func escape(p string) string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		segs = append(segs, url.PathEscape(s))
	}
	return strings.Join(segs, "/")
}

type client struct {
	t    testing.TB
	base string
	user string
	pass string
}

func (b *backend) client(t testing.TB) *client {
	return &client{t: t, base: b.url, user: testUser, pass: testPass}
}

// do sends a request with a raw, already escaped path.
func (c *client) do(method, rawPath string, hdr map[string]string, body string) (*http.Response, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+"/", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	// Opaque goes into the request line byte for byte: the test says how
	// the path is encoded, not net/url.
	req.URL.Opaque = rawPath
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if c.user != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, rawPath, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, rawPath, err)
	}
	return resp, data
}

// multistatus is a parsed 207 body: href -> status -> property -> inner XML.
type multistatus map[string]map[string]map[xml.Name]string

func parseMultistatus(t testing.TB, data []byte) (multistatus, []string) {
	t.Helper()
	var ms struct {
		Responses []struct {
			Href     string `xml:"DAV: href"`
			Propstat []struct {
				Prop struct {
					Any []struct {
						XMLName xml.Name
						Inner   string `xml:",innerxml"`
					} `xml:",any"`
				} `xml:"DAV: prop"`
				Status string `xml:"DAV: status"`
			} `xml:"DAV: propstat"`
		} `xml:"DAV: response"`
	}
	if err := xml.Unmarshal(data, &ms); err != nil {
		t.Fatalf("multistatus: %v\n%s", err, data)
	}
	out := multistatus{}
	var order []string
	for _, r := range ms.Responses {
		if _, dup := out[r.Href]; dup {
			t.Errorf("href %q twice", r.Href)
		}
		order = append(order, r.Href)
		out[r.Href] = map[string]map[xml.Name]string{}
		for _, ps := range r.Propstat {
			m := map[xml.Name]string{}
			for _, p := range ps.Prop.Any {
				m[p.XMLName] = p.Inner
			}
			out[r.Href][strings.TrimPrefix(ps.Status, "HTTP/1.1 ")] = m
		}
	}
	return out, order
}

func dn(local string) xml.Name { return xml.Name{Space: "DAV:", Local: local} }

// propfind runs PROPFIND and parses the 207.
func (c *client) propfind(rawPath, depth, body string) multistatus {
	c.t.Helper()
	resp, data := c.do("PROPFIND", rawPath, map[string]string{"Depth": depth}, body)
	if resp.StatusCode != http.StatusMultiStatus {
		c.t.Fatalf("PROPFIND %s depth %s: %s\n%s", rawPath, depth, resp.Status, data)
	}
	ms, _ := parseMultistatus(c.t, data)
	return ms
}

// unhref decodes an href into a path below base.
func unhref(t testing.TB, base, h string) string {
	t.Helper()
	p, err := url.PathUnescape(h)
	if err != nil {
		t.Fatalf("href %q: %v", h, err)
	}
	rest, ok := strings.CutPrefix(p, base+"/")
	if !ok && p != base {
		t.Fatalf("href %q not below %q", h, base)
	}
	return strings.TrimSuffix(rest, "/")
}

// dirHash is a digest of every file under root, names, modes and bytes:
// a refused write must leave it unchanged.
func dirHash(t testing.TB, root string) string {
	t.Helper()
	var b bytes.Buffer
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(p + "\x00" + info.Mode().String() + "\x00")
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		b.WriteString("\x00" + info.ModTime().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b.Bytes())
}
