package webui_test

import (
	"archive/zip"
	"bytes"
	"io"
	"path/filepath"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/webui"
)

// TestRealCorruptPack damages the data pack of a real repository: a
// download of the file, and archives holding it, break off; no client
// gets a complete-looking file or archive.
func TestRealCorruptPack(t *testing.T) {
	src := t.TempDir()
	want := enginetest.RandData(11, 4<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "d", "data.bin"), want); err != nil {
		t.Fatal(err)
	}
	if err := enginetest.WriteFile(filepath.Join(src, "d", "a-small.txt"), []byte("small")); err != nil {
		t.Fatal(err)
	}
	repo, root := enginetest.NewRepo(t)
	s := enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "c"})
	enginetest.DamageLargestPack(t, root)
	c := newClient(t, newServer(t, repo, webui.Options{Anonymous: true}))
	snap := s.ID.String()[:12]
	get := func(u string) (int, []byte, error) {
		resp, err := c.c.Get(c.base + u)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}
	code, body, err := get("/raw/" + snap + "/d/data.bin")
	if err == nil && code == 200 {
		t.Errorf("raw download of a damaged file: 200 and %d bytes without an error", len(body))
	}
	if len(body) > 0 && code == 200 && !bytes.Equal(body, want[:len(body)]) {
		t.Errorf("raw download: the %d bytes before the error are not the file's", len(body))
	}
	for _, u := range []string{"/archive/" + snap + "/d", "/archive/" + snap + "/", "/select/" + snap + "/d?p=a-small.txt&p=data.bin"} {
		code, body, err := get(u)
		if err == nil && code == 200 {
			t.Errorf("GET %s: 200, %d bytes without an error", u, len(body))
		}
		if _, zerr := zip.NewReader(bytes.NewReader(body), int64(len(body))); zerr == nil && code == 200 {
			t.Errorf("GET %s: the partial body opens as a zip", u)
		}
	}
	code, body, err = get("/archive/" + snap + "/d?format=tar.gz")
	if err == nil && code == 200 {
		t.Errorf("tar.gz of a damaged directory: 200, %d bytes without an error", len(body))
	}
}
