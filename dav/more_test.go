package dav_test

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

func TestAuth(t *testing.T) {
	for _, anon := range []bool{false, true} {
		t.Run(fmt.Sprint("anonymous=", anon), func(t *testing.T) {
			b := newFake(t, dav.Options{Users: usersFor(t), Anonymous: anon})
			for _, tc := range []struct {
				user, pass string
				want       int
			}{
				{"", "", map[bool]int{false: 401, true: 207}[anon]},
				{testUser, "wrong", 401},
				{"mallory", testPass, 401},
				{testUser, testPass, 207},
				{testUser, testPass, 207}, // from the cache this time
				{testUser, testPass + "x", 401},
			} {
				c := b.client(t)
				c.user, c.pass = tc.user, tc.pass
				for _, m := range []string{"PROPFIND", "GET", "OPTIONS"} {
					p := "/"
					if m == "GET" {
						p = b.root + "/hello.txt"
					}
					resp, _ := c.do(m, p, map[string]string{"Depth": "0"}, "")
					want := tc.want
					if want == 207 && m != "PROPFIND" {
						want = 200
					}
					if resp.StatusCode != want {
						t.Errorf("%s %s as %q/%q: %s, want %d", m, p, tc.user, tc.pass, resp.Status, want)
					}
					if want == 401 && !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `Basic realm="plakar-gw"`) {
						t.Errorf("401 without a Basic challenge: %v", resp.Header)
					}
				}
			}
			// Not Basic at all.
			c := b.client(t)
			c.user = ""
			if resp, _ := c.do("PROPFIND", "/", map[string]string{"Depth": "0", "Authorization": "Bearer x"}, ""); resp.StatusCode != 401 {
				t.Errorf("bearer token: %s", resp.Status)
			}
		})
	}
}

// TestCorruptFake: a file that fails after some bytes cuts the connection
// (the client sees an error, never a complete body); one that fails
// before its first byte is a 500.
func TestCorruptFake(t *testing.T) {
	b := newFake(t, dav.Options{Anonymous: true})
	// The cut may come before the status line reaches the client (it
	// is still buffered) or in the body; both are errors to the client.
	if resp, err := http.Get(b.url + b.root + "/corrupt.bin"); err == nil {
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatalf("corrupt file read in full: %s, %d bytes", resp.Status, len(data))
		}
		if len(data) > 100 {
			t.Errorf("%d bytes before the cut, only 100 are good", len(data))
		}
	}
	c := b.client(t)
	c.user = ""
	// HEAD reads nothing of a file whose type its extension gives, so
	// only GET can tell.
	resp, data := c.do("GET", "/first-latest/corrupt-first.bin", nil, "")
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("ETag") != "" || resp.Header.Get("Content-Range") != "" {
		t.Errorf("GET corrupt at byte 0: %s %q %v", resp.Status, data, resp.Header)
	}
	// Its listing does not read the contents and still works.
	ms := c.propfind("/first-latest/corrupt-first.bin", "0", "")
	if len(ms) != 1 {
		t.Errorf("PROPFIND of a corrupt file: %v", ms)
	}
	// A range before the damage is served.
	resp, data = c.do("GET", b.root+"/corrupt.bin", map[string]string{"Range": "bytes=0-49"}, "")
	if resp.StatusCode != 206 || string(data) != strings.Repeat("x", 50) {
		t.Errorf("range before the damage: %s %q", resp.Status, data)
	}
}

// TestCorruptEngine damages the packs of a real repository: GET must not
// return the file's full bytes with success.
func TestCorruptEngine(t *testing.T) {
	repo, root := enginetest.NewRepo(t)
	src := t.TempDir()
	want := enginetest.RandData(9, 6<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "big.bin"), want); err != nil {
		t.Fatal(err)
	}
	enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "j"})
	url := serve(t, repo, dav.Options{Anonymous: true})
	// Trees are read (and cached) before the damage, file contents not: the
	// engine keeps chunks it has read in memory.
	c := &client{t: t, base: url}
	c.propfind("/j-latest/big.bin", "0", "")
	var packs []string
	filepath.WalkDir(filepath.Join(root, "packs"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			packs = append(packs, p)
		}
		return err
	})
	if len(packs) == 0 {
		t.Fatal("no packs found")
	}
	for _, p := range packs {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for off := len(data) / 3; off < len(data)*2/3; off += 4096 {
			data[off] ^= 0x55
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	failed := 0
	for _, rng := range []string{"", "bytes=0-", fmt.Sprintf("bytes=%d-", 3<<20)} {
		req, _ := http.NewRequest("GET", url+"/j-latest/big.bin", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			failed++
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil || resp.StatusCode == 500:
			failed++
		case resp.StatusCode < 300:
			t.Errorf("Range %q: %s with %d bytes from a damaged repository", rng, resp.Status, len(data))
		}
	}
	if failed == 0 {
		t.Error("no read failed")
	}
}

// TestNewSnapshotShows: the root lists a snapshot added while serving
// within a few seconds, and its alias moves to it.
func TestNewSnapshotShows(t *testing.T) {
	cat := vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(1, "j", fakeTime), Files: fstest.MapFS{"a": {Data: []byte("old")}}})
	url := serve(t, cat, dav.Options{Anonymous: true, ListTTL: 200 * time.Millisecond})
	c := &client{t: t, base: url}
	if _, ok := c.propfind("/", "1", "")["/snap-"+strings.Repeat("01", 6)+"/"]; !ok {
		t.Fatal("first snapshot not listed")
	}
	cat.Add(&vfstest.Snapshot{Info: vfstest.Info(2, "j", fakeTime.Add(time.Hour)), Files: fstest.MapFS{"a": {Data: []byte("new")}}})
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, ok := c.propfind("/", "1", "")["/snap-"+strings.Repeat("02", 6)+"/"]
		_, data := c.do("GET", "/j-latest/a", nil, "")
		if ok && string(data) == "new" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new snapshot not shown after 5 s (listed %v, j-latest/a %q)", ok, data)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cat.Remove(strings.Repeat("02", 32))
	time.Sleep(300 * time.Millisecond)
	if resp, _ := c.do("PROPFIND", "/snap-"+strings.Repeat("02", 6)+"/", map[string]string{"Depth": "0"}, ""); resp.StatusCode != 404 {
		t.Errorf("removed snapshot: %s", resp.Status)
	}
}

// TestBigDirectory lists a directory of many entries in one depth 1
// PROPFIND, every entry once.
func TestBigDirectory(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 3000
	}
	// "d" is explicit: the fake synthesizes a missing directory by scanning
	// every key, once per lookup.
	files := fstest.MapFS{"d": {Mode: fs.ModeDir | 0o755}}
	for i := range n {
		files[fmt.Sprintf("d/f%06d", i)] = &fstest.MapFile{Data: []byte("x"), ModTime: fakeTime}
	}
	url := serve(t, vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(3, "big", fakeTime), Files: files}), dav.Options{Anonymous: true})
	c := &client{t: t, base: url}
	resp, data := c.do("PROPFIND", "/big-latest/d/", map[string]string{"Depth": "1"}, "")
	if resp.StatusCode != 207 {
		t.Fatal(resp.Status)
	}
	ms, order := parseMultistatus(t, data)
	if len(ms) != n+1 || order[0] != "/big-latest/d/" {
		t.Fatalf("%d responses for %d entries, first %s", len(ms), n, order[0])
	}
	for i := range n {
		if _, ok := ms[fmt.Sprintf("/big-latest/d/f%06d", i)]; !ok {
			t.Fatalf("f%06d missing", i)
		}
	}
}

// TestLog: one line per request with method, path, status and size.
func TestLog(t *testing.T) {
	var buf bytes.Buffer
	b := newFake(t, dav.Options{Anonymous: true, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	c := b.client(t)
	c.user = ""
	c.do("GET", b.root+"/hello.txt", nil, "")
	c.do("PUT", b.root+"/x", nil, "data")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines: %q", len(lines), lines)
	}
	for i, want := range []string{"method=GET path=/job-latest/hello.txt status=200 bytes=13", "method=PUT path=/job-latest/x status=403"} {
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], "duration=") {
			t.Errorf("log line %q lacks %q", lines[i], want)
		}
	}
}
