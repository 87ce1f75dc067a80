package s3api

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

const (
	testKey    = "AKIDTEST"
	testSecret = "secret/with+odd=chars"
)

var epoch = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// clock is the handler's time, movable by tests (skew, expiry).
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) shift(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

func randBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func file(data string) *fstest.MapFile {
	return &fstest.MapFile{Data: []byte(data), Mode: 0o644, ModTime: epoch}
}

// docsFiles is the fake snapshot most tests read: files at several depths,
// an empty directory, symlinks of every kind, a FIFO, odd names.
func docsFiles() fstest.MapFS {
	return fstest.MapFS{
		"a.txt":               file("hello a"),
		"b.html":              file("<html>b</html>"),
		"noext":               file("%PDF-1.4 sniffed"),
		"dir/b.txt":           file("bee"),
		"dir/sub/c.txt":       file("sea"),
		"dir/sub/deeper/d":    file("dee"),
		"dir0":                file("sorts after dir/ because '0' > '/'"),
		"dir-x/e":             file("dash sorts before slash"),
		"empty":               {Mode: fs.ModeDir | 0o755, ModTime: epoch},
		"dir/emptysub":        {Mode: fs.ModeDir | 0o700, ModTime: epoch},
		"big.bin":             {Data: randBytes(1, 1<<20+17), Mode: 0o600, ModTime: epoch},
		"link":                {Data: []byte("a.txt"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"dir/uplink":          {Data: []byte("../a.txt"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"dangling":            {Data: []byte("nope"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"escaping":            {Data: []byte("../../etc/passwd"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"absolute":            {Data: []byte("/etc/passwd"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"linkdir":             {Data: []byte("dir"), Mode: fs.ModeSymlink | 0o777, ModTime: epoch},
		"fifo":                {Mode: fs.ModeNamedPipe | 0o644, ModTime: epoch},
		"odd/a b+c%d#e?f&g=h": file("odd"),
		"odd/new\nline":       file("nl"),
		"odd/\u00e9":          file("nfc"),
		"odd/e\u0301":         file("nfd"),
		"odd/back\\slash":     file("bs"),
		"odd/日本語.txt":         file("unicode"),
		"setuid":              {Data: []byte("x"), Mode: 0o755 | fs.ModeSetuid, ModTime: epoch, Sys: &vfs.Sys{UID: 1000, GID: 100}},
	}
}

// manyFiles has n keys spread over nested directories.
func manyFiles(n int) fstest.MapFS {
	m := fstest.MapFS{}
	for i := range n {
		m[fmt.Sprintf("d%d/s%02d/f%05d", i%7, i%13, i)] = file(fmt.Sprint(i))
	}
	return m
}

type fixture struct {
	cat   *vfstest.Catalog
	srv   *httptest.Server
	clock *clock
	h     *handler
}

func fakeCatalog() *vfstest.Catalog { return fakeCatalogN(2500) }

// fakeCatalogN has n keys in many-latest.
func fakeCatalogN(n int) *vfstest.Catalog {
	return vfstest.New(
		&vfstest.Snapshot{Info: vfstest.Info(0xa1, "docs", epoch), Files: docsFiles()},
		&vfstest.Snapshot{Info: vfstest.Info(0xb2, "many", epoch.Add(time.Hour)), Files: manyFiles(n)},
		&vfstest.Snapshot{Info: vfstest.Info(0xc3, "corrupt", epoch.Add(2*time.Hour)),
			Files:   fstest.MapFS{"late.bin": {Data: randBytes(2, 3<<20), ModTime: epoch}, "early.bin": {Data: randBytes(3, 4096), ModTime: epoch}},
			Corrupt: map[string]bool{"late.bin": true, "early.bin": true}, CorruptAfter: 1 << 20},
		&vfstest.Snapshot{Info: vfstest.Info(0xd4, "Bad_Job", epoch), Files: fstest.MapFS{"x": file("x")}},
	)
}

func newFixture(t testing.TB, cat vfs.Catalog, o Options) *fixture {
	t.Helper()
	if o.Credentials == nil {
		o.Credentials = map[string]string{testKey: testSecret}
	}
	c := &clock{}
	h := newHandler(cat, o, c.now)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, clock: c, h: h}
	if vc, ok := cat.(*vfstest.Catalog); ok {
		f.cat = vc
	}
	return f
}

func (f *fixture) client(key, secret string, opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint:               aws.String(f.srv.URL),
		UsePathStyle:               true,
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts:           1,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
	}, opts...)
}

func (f *fixture) s3() *s3.Client { return f.client(testKey, testSecret) }

// raw sends a request as written, unsigned.
func (f *fixture) raw(t testing.TB, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	return f.do(t, f.request(t, method, target, hdr))
}

// signed sends a request as written, signed by the SDK's SigV4 signer at
// time at (zero: now).
func (f *fixture) signed(t testing.TB, method, target string, hdr map[string]string, at time.Time) *http.Response {
	t.Helper()
	req := f.request(t, method, target, hdr)
	if at.IsZero() {
		at = time.Now()
	}
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	err := signer.SignHTTP(bg, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, emptySHA256, "s3", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, req)
}

func (f *fixture) request(t testing.TB, method, target string, hdr map[string]string) *http.Request {
	req, err := http.NewRequest(method, f.srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Opaque goes on the request line byte for byte, so that paths like
	// /b/../x or %2e%2e reach the server as written.
	path, query, _ := strings.Cut(target, "?")
	req.URL.Opaque, req.URL.RawQuery = path, query
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return req
}

func (f *fixture) do(t testing.TB, req *http.Request) *http.Response {
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// noLeaks fails the test if goroutines started during it outlive it.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
		}
	})
}

var bg = context.Background()

func vfstestCorruptAt0() *vfstest.Catalog {
	return vfstest.New(&vfstest.Snapshot{Info: vfstest.Info(0x11, "c", epoch),
		Files: fstest.MapFS{"x": {Data: randBytes(5, 1000), ModTime: epoch}}, Corrupt: map[string]bool{"x": true}})
}
