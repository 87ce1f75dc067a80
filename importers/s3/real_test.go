package s3_test

import (
	"errors"
	"io"
	iofs "io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/importertest"
	s3importer "github.com/plakar-gw/plakar-gw/importers/s3"
)

// upload puts the fixture under prefix: files as objects, empty
// directories as "dir/" objects.
func upload(t *testing.T, s *server, bucket, prefix string, fix importertest.Fixture) {
	for p, content := range fix.Files {
		s.put(t, bucket, prefix+p[1:], content)
	}
	for _, d := range fix.Dirs {
		s.put(t, bucket, prefix+d[1:]+"/", "")
	}
}

func TestRealConformance(t *testing.T) {
	s := realServer(t)
	b := s.bucket(t)
	fix := importertest.DefaultFixture()
	upload(t, s, b, "some/prefix/", fix)
	s.put(t, b, "some/prefix-sibling", "not under the prefix")
	s.put(t, b, "other/file", "not under the prefix")
	importertest.Run(t, fix, newImporter(t, s.config("s3://"+b+"/some/prefix")))
}

func TestRealWholeBucketAndMetadata(t *testing.T) {
	s := realServer(t)
	b := s.bucket(t)
	s.put(t, b, "d/f.txt", "12345")
	s.put(t, b, "empty/", "")
	imp := newImporter(t, s.config("s3://"+b))
	recs := map[string]importers.Record{}
	for rec, err := range imp.Scan(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		recs[rec.Path] = rec
	}
	f := recs["/d/f.txt"]
	if f.Size != 5 || f.ModTime.IsZero() || len(f.Xattrs) != 1 || f.Xattrs[0].Name != s3importer.EtagXattr ||
		string(f.Xattrs[0].Value) != "827ccb0eea8a706c4c34a16891f84e7b" { // md5("12345")
		t.Errorf("/d/f.txt: %+v", f)
	}
	if !recs["/empty"].Mode.IsDir() {
		t.Errorf("/empty: %+v; want a directory", recs["/empty"])
	}
}

func TestRealMissingBucketFailsScan(t *testing.T) {
	s := realServer(t)
	imp := newImporter(t, s.config("s3://no-such-bucket-plakar-gw"))
	var last error
	for _, err := range imp.Scan(t.Context()) {
		last = err
	}
	if last == nil {
		t.Fatal("scan of a missing bucket ended without an error")
	}
}

func TestRealWrongCredentials(t *testing.T) {
	s := realServer(t)
	b := s.bucket(t)
	s.put(t, b, "f", "x")
	cfg := s.config("s3://" + b)
	cfg.SecretAccessKey = "wrong"
	var last error
	for _, err := range newImporter(t, cfg).Scan(t.Context()) {
		last = err
	}
	if last == nil {
		t.Fatal("scan with a wrong secret ended without an error")
	}
	cfg.SecretAccessKey = s.secret
	imp := newImporter(t, cfg)
	cfg.SecretAccessKey = "wrong"
	_, err := newImporter(t, cfg).Open(t.Context(), "/f")
	if err == nil || !errors.Is(err, iofs.ErrPermission) {
		t.Errorf("Open with a wrong secret: %v; want fs.ErrPermission", err)
	}
	if _, err := imp.Open(t.Context(), "/missing"); !errors.Is(err, iofs.ErrNotExist) {
		t.Errorf("Open(/missing) = %v; want fs.ErrNotExist", err)
	}
}

// faultProxy sits in front of the real server: GETs of one key fail with
// 500 the first `fail` times; with cut, the first successful body is
// cut after half its bytes (the connection is dropped).
type faultProxy struct {
	key        string
	fail       int
	cut        bool
	mu         sync.Mutex
	gets, cuts int
}

func (f *faultProxy) start(t *testing.T, target string) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/"+f.key) {
			rp.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.gets++
		n, cut := f.gets, f.cut && f.cuts == 0 && f.gets > f.fail
		if cut {
			f.cuts++
		}
		f.mu.Unlock()
		if n <= f.fail {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`)
			return
		}
		if cut {
			rp.ModifyResponse = nil
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			w.Write(body[:len(body)/2])
			panic(http.ErrAbortHandler) // drop the connection mid-body
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestRealRetriesThroughEngine: an object that answers 500 twice then
// succeeds, and one whose body is cut mid-way, are both read whole by a
// real ingest, whose snapshot is complete and restores byte for byte.
func TestRealRetriesThroughEngine(t *testing.T) {
	s := realServer(t)
	b := s.bucket(t)
	flaky := strings.Repeat("flaky data ", 100000)
	cut := strings.Repeat("cut data ", 100000)
	s.put(t, b, "flaky.bin", flaky)
	s.put(t, b, "cut.bin", cut)
	s.put(t, b, "fine.txt", "fine\n")
	for _, fp := range []*faultProxy{{key: "flaky.bin", fail: 2}, {key: "cut.bin", cut: true}} {
		cfg := s.config("s3://" + b)
		cfg.Endpoint = fp.start(t, s.endpoint)
		repo, _ := enginetest.NewRepo(t)
		snap, err := repo.Ingest(t.Context(), newImporter(t, cfg), engine.IngestOptions{Job: "s3"})
		if err != nil {
			t.Fatalf("%s: Ingest: %v", fp.key, err)
		}
		if !snap.Header.Complete {
			t.Errorf("%s: snapshot not complete: %v", fp.key, snap.Header.Errors)
		}
		want := map[string]int{"flaky.bin": 3, "cut.bin": 2}[fp.key]
		if fp.gets != want {
			t.Errorf("%s: %d GETs reached the proxy, want %d", fp.key, fp.gets, want)
		}
		fsys, err := repo.OpenSnapshot(t.Context(), snap.ID.String())
		if err != nil {
			t.Fatal(err)
		}
		for name, content := range map[string]string{"flaky.bin": flaky, "cut.bin": cut, "fine.txt": "fine\n"} {
			got, err := iofs.ReadFile(fsys, name)
			if err != nil || string(got) != content {
				t.Errorf("%s: %s: %d bytes, %v; want %d bytes", fp.key, name, len(got), err, len(content))
			}
		}
	}
}

// TestRealPersistentFailureIsPerPath: an object that always fails is a
// per-path error; the rest of the bucket is imported, and the snapshot
// says it is not complete.
func TestRealPersistentFailureIsPerPath(t *testing.T) {
	s := realServer(t)
	b := s.bucket(t)
	s.put(t, b, "bad.bin", "bad")
	s.put(t, b, "good.txt", "good")
	fp := &faultProxy{key: "bad.bin", fail: 1000}
	cfg := s.config("s3://" + b)
	cfg.Endpoint = fp.start(t, s.endpoint)
	cfg.Retries = 2
	repo, _ := enginetest.NewRepo(t)
	snap, err := repo.Ingest(t.Context(), newImporter(t, cfg), engine.IngestOptions{Job: "s3"})
	if err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	fsys, err := repo.OpenSnapshot(t.Context(), snap.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	for pe, err := range fsys.Errors(".") {
		if err != nil {
			t.Fatal(err)
		}
		errs = append(errs, pe.Path)
	}
	if snap.Header.Complete || len(errs) != 1 || errs[0] != "/bad.bin" {
		t.Errorf("complete %v, errors %q; want one error on /bad.bin", snap.Header.Complete, errs)
	}
	if got, err := iofs.ReadFile(fsys, "good.txt"); err != nil || string(got) != "good" {
		t.Errorf("good.txt: %q, %v", got, err)
	}
	if fp.gets != 3 {
		t.Errorf("%d GETs, want 3 (1 + 2 retries)", fp.gets)
	}
}
