package dav_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

// TestBigGet: long GETs, several at once, ranges, and the cut on damaged
// data far into a file.
func TestBigGet(t *testing.T) {
	size, clients := 41<<20+12345, 7
	if testing.Short() {
		size, clients = 6<<20+12345, 2
	}
	data := enginetest.RandData(5, size)
	files := func() fstest.MapFS { return fstest.MapFS{"huge": {Data: data, ModTime: fakeTime}} }
	cat := vfstest.New(
		&vfstest.Snapshot{Info: vfstest.Info(1, "ok", fakeTime), Files: files()},
		&vfstest.Snapshot{Info: vfstest.Info(2, "bad", fakeTime), Files: files(), Corrupt: map[string]bool{"huge": true}, CorruptAfter: int64(size) * 2 / 3},
	)
	url := serve(t, cat, dav.Options{Anonymous: true})
	get := func(path, rng string) (*http.Response, []byte, error) {
		req, _ := http.NewRequest("GET", url+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp, b, err
	}
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, got, err := get("/ok-latest/huge", "")
			if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) {
				t.Errorf("GET %d: %v, %d bytes", i, err, len(got))
			}
		}()
	}
	wg.Wait()
	for _, r := range [][2]int{{300000, len(data) - 3000}, {0, len(data) - 1}, {len(data) / 3, len(data) - 1}} {
		resp, got, err := get("/ok-latest/huge", fmt.Sprintf("bytes=%d-%d", r[0], r[1]))
		if err != nil || resp.StatusCode != 206 || !bytes.Equal(got, data[r[0]:r[1]+1]) {
			t.Errorf("range %v: %v, %d bytes", r, err, len(got))
		}
	}
	resp, got, err := get("/bad-latest/huge", "")
	if err == nil {
		t.Errorf("damaged file read in full: %s, %d bytes", resp.Status, len(got))
	} else if len(got) > size*2/3 || !bytes.Equal(got, data[:len(got)]) {
		t.Errorf("damaged file: %d bytes, good prefix %v", len(got), bytes.Equal(got, data[:min(len(got), len(data))]))
	}
}
