package s3api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func get(t *testing.T, c *s3.Client, in *s3.GetObjectInput) ([]byte, *s3.GetObjectOutput, error) {
	t.Helper()
	out, err := c.GetObject(bg, in)
	if err != nil {
		return nil, nil, err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return b, out, err
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func TestGetObject(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	files := docsFiles()
	for _, key := range []string{"a.txt", "big.bin", "odd/a b+c%d#e?f&g=h", "odd/new\nline", "odd/\u00e9", "odd/e\u0301", "odd/back\\slash", "odd/日本語.txt", "link", "dir/uplink"} {
		body, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %q: %v", key, err)
		}
		want := files[key].Data
		if files[key].Mode&0o170000000 != 0 || key == "link" || key == "dir/uplink" {
			want = files["a.txt"].Data
		}
		if !bytes.Equal(body, want) || *out.ContentLength != int64(len(want)) {
			t.Fatalf("GET %q: %d bytes, want %d", key, len(body), len(want))
		}
	}
	// Metadata, as HEAD and GET both say it.
	head, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("setuid")})
	if err != nil {
		t.Fatal(err)
	}
	m := head.Metadata
	if m["mode"] != "4755" || m["uid"] != "1000" || m["gid"] != "100" || m["mtime"] != fmt.Sprintf("%d.123456789", epoch.Unix()) {
		t.Errorf("metadata %v", m)
	}
	if !head.LastModified.Equal(epoch.Truncate(time.Second)) || *head.AcceptRanges != "bytes" || *head.ContentLength != 1 {
		t.Errorf("head %+v", head)
	}
	for key, ctype := range map[string]string{"a.txt": "text/plain; charset=utf-8", "b.html": "text/html; charset=utf-8", "noext": "application/pdf", "big.bin": "application/octet-stream"} {
		h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String(key)})
		if err != nil || *h.ContentType != ctype {
			t.Errorf("%s: content type %v %v, want %s", key, h.ContentType, err, ctype)
		}
	}
	// List and HEAD agree on ETags.
	list, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("docs-latest")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		h, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("docs-latest"), Key: o.Key})
		if err != nil || *h.ETag != *o.ETag || *h.ContentLength != *o.Size || !h.LastModified.Equal(o.LastModified.Truncate(time.Second)) {
			t.Errorf("%q: HEAD %v %v, listed %s %d", *o.Key, h, err, *o.ETag, *o.Size)
		}
	}
	// Empty directory markers are zero-byte objects; others are not.
	body, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("dir/emptysub/")})
	if err != nil || len(body) != 0 || *out.ETag != `"`+emptyMD5+`"` {
		t.Errorf("empty dir marker: %q %v", body, err)
	}
	for _, key := range []string{"dir/", "dir", "empty", "nope", "dangling", "escaping", "absolute", "linkdir", "fifo", "a.txt/"} {
		_, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String(key)})
		var nsk *types.NoSuchKey
		if !errors.As(err, &nsk) {
			t.Errorf("GET %q: %v, want NoSuchKey", key, err)
		}
	}
	// GET follows links in inner components too (inside the snapshot).
	if body, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("linkdir/b.txt")}); err != nil || string(body) != "bee" {
		t.Errorf("through a directory link: %q %v", body, err)
	}
}

func TestRanges(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	data := docsFiles()["big.bin"].Data
	n := int64(len(data))
	for _, tc := range []struct {
		rng        string
		start, end int64 // inclusive; -1: whole object, 200
	}{
		{"bytes=0-0", 0, 0},
		{"bytes=10-99", 10, 99},
		{"bytes=1000-", 1000, n - 1},
		{"bytes=-500", n - 500, n - 1},
		{"bytes=-999999999", 0, n - 1},
		{"bytes=5-999999999", 5, n - 1},
		{fmt.Sprintf("bytes=%d-", n-1), n - 1, n - 1},
		{"bytes=0-1,5-6", -1, -1}, // several ranges: the whole object, as S3
		{"bytes=9-3", -1, -1},     // malformed: ignored
		{"lines=1-2", -1, -1},
	} {
		body, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"), Range: aws.String(tc.rng)})
		if err != nil {
			t.Fatalf("%s: %v", tc.rng, err)
		}
		if tc.start < 0 {
			if !bytes.Equal(body, data) || out.ContentRange != nil {
				t.Errorf("%s: %d bytes, range %v; want the whole object", tc.rng, len(body), out.ContentRange)
			}
			continue
		}
		want := data[tc.start : tc.end+1]
		cr := fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, n)
		if !bytes.Equal(body, want) || out.ContentRange == nil || *out.ContentRange != cr || *out.ContentLength != int64(len(want)) {
			t.Errorf("%s: %d bytes, %v; want %d, %s", tc.rng, len(body), out.ContentRange, len(want), cr)
		}
	}
	for _, rng := range []string{fmt.Sprintf("bytes=%d-", n), fmt.Sprintf("bytes=%d-%d", n+5, n+10), "bytes=-0"} {
		_, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"), Range: aws.String(rng)})
		if apiCode(err) != "InvalidRange" || httpStatus(err) != 416 {
			t.Errorf("%s: %v, want 416 InvalidRange", rng, err)
		}
	}
	r := f.signed(t, "GET", "/docs-latest/big.bin", map[string]string{"Range": fmt.Sprintf("bytes=%d-", n)}, time.Time{})
	if r.StatusCode != 416 || r.Header.Get("Content-Range") != fmt.Sprintf("bytes */%d", n) {
		t.Errorf("416 without Content-Range: %d %q", r.StatusCode, r.Header.Get("Content-Range"))
	}
	// An empty object has no satisfiable range.
	_, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("empty/"), Range: aws.String("bytes=0-")})
	if apiCode(err) != "InvalidRange" {
		t.Errorf("range of an empty object: %v", err)
	}

	// partNumber=1 is the whole object; others do not exist.
	body, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"), PartNumber: aws.Int32(1)})
	if err != nil || !bytes.Equal(body, data) || *out.ContentRange != fmt.Sprintf("bytes 0-%d/%d", n-1, n) {
		t.Errorf("partNumber=1: %d bytes %v", len(body), err)
	}
	_, _, err = get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"), PartNumber: aws.Int32(2)})
	if apiCode(err) != "InvalidPartNumber" {
		t.Errorf("partNumber=2: %v", err)
	}
	_, _, err = get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"), PartNumber: aws.Int32(1), Range: aws.String("bytes=0-1")})
	if apiCode(err) != "InvalidRequest" {
		t.Errorf("partNumber with Range: %v", err)
	}
}

func TestConditionals(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	key := &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("a.txt")}
	_, out, err := get(t, c, key)
	if err != nil {
		t.Fatal(err)
	}
	etag := *out.ETag
	before, after := epoch.Add(-time.Hour), epoch.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		in     s3.GetObjectInput
		status int
	}{
		{"If-Match ok", s3.GetObjectInput{IfMatch: aws.String(etag)}, 200},
		{"If-Match *", s3.GetObjectInput{IfMatch: aws.String("*")}, 200},
		{"If-Match list", s3.GetObjectInput{IfMatch: aws.String(`"x", ` + etag)}, 200},
		{"If-Match other", s3.GetObjectInput{IfMatch: aws.String(`"other"`)}, 412},
		{"If-None-Match same", s3.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		{"If-None-Match other", s3.GetObjectInput{IfNoneMatch: aws.String(`"other"`)}, 200},
		{"If-Modified-Since before", s3.GetObjectInput{IfModifiedSince: &before}, 200},
		{"If-Modified-Since after", s3.GetObjectInput{IfModifiedSince: &after}, 304},
		{"If-Modified-Since same second", s3.GetObjectInput{IfModifiedSince: aws.Time(epoch.Truncate(time.Second))}, 304},
		{"If-Unmodified-Since after", s3.GetObjectInput{IfUnmodifiedSince: &after}, 200},
		{"If-Unmodified-Since before", s3.GetObjectInput{IfUnmodifiedSince: &before}, 412},
		// If-Match holding wins over a failing If-Unmodified-Since, and
		// If-None-Match over If-Modified-Since (RFC 7232, as S3).
		{"If-Match and old If-Unmodified-Since", s3.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: &before}, 200},
		{"If-None-Match other and If-Modified-Since after", s3.GetObjectInput{IfNoneMatch: aws.String(`"x"`), IfModifiedSince: &after}, 200},
	} {
		in := tc.in
		in.Bucket, in.Key = key.Bucket, key.Key
		_, _, err := get(t, c, &in)
		got := 200
		if err != nil {
			got = httpStatus(err)
		}
		if got != tc.status {
			t.Errorf("%s: %d (%v), want %d", tc.name, got, err, tc.status)
		}
		if tc.status == 412 && apiCode(err) != "PreconditionFailed" {
			t.Errorf("%s: code %q", tc.name, apiCode(err))
		}
	}
}

func TestOverridesAndAttributes(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{Anonymous: true})
	c := f.s3()
	_, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("a.txt"),
		ResponseContentType: aws.String("application/x-test"), ResponseContentDisposition: aws.String(`attachment; filename="x y.txt"`),
		ResponseCacheControl: aws.String("no-cache"), ResponseContentLanguage: aws.String("fr")})
	if err != nil || *out.ContentType != "application/x-test" || *out.ContentDisposition != `attachment; filename="x y.txt"` ||
		*out.CacheControl != "no-cache" || *out.ContentLanguage != "fr" {
		t.Fatalf("overrides: %+v %v", out, err)
	}
	r := f.raw(t, "GET", "/docs-latest/a.txt?response-content-type=text/evil", nil)
	if r.StatusCode != 400 {
		t.Errorf("anonymous override: %d, want 400", r.StatusCode)
	}

	att, err := c.GetObjectAttributes(bg, &s3.GetObjectAttributesInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesObjectSize, types.ObjectAttributesStorageClass}})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("big.bin")})
	if *att.ObjectSize != int64(len(docsFiles()["big.bin"].Data)) || `"`+*att.ETag+`"` != *h.ETag || att.StorageClass != types.StorageClassStandard || !att.LastModified.Equal(*h.LastModified) {
		t.Fatalf("attributes %+v, head etag %s", att, *h.ETag)
	}
}

// A read that fails before the first byte is a 500; after it, the
// connection breaks: the client never gets a short or wrong body as a
// success.
func TestCorruptAborts(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	b := aws.String("corrupt-latest")
	_, _, err := get(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("late.bin")})
	if err == nil {
		t.Fatal("a file corrupt after 1 MiB downloaded without an error")
	}
	body, _, err := get(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("late.bin"), Range: aws.String("bytes=0-1000")})
	if err != nil || len(body) != 1001 {
		t.Fatalf("the good first part: %d bytes, %v", len(body), err)
	}
	r := f.signed(t, "GET", "/corrupt-latest/late.bin", nil, time.Time{})
	got, err := io.ReadAll(r.Body)
	if err == nil || r.StatusCode != 200 || int64(len(got)) >= r.ContentLength {
		t.Fatalf("raw GET: status %d, %d of %d bytes, err %v; want a broken body", r.StatusCode, len(got), r.ContentLength, err)
	}
	_, _, err = get(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("late.bin"), Range: aws.String("bytes=2000000-")})
	if apiCode(err) != "InternalError" || httpStatus(err) != 500 {
		t.Fatalf("corrupt from the first byte: %v, want 500 InternalError", err)
	}
	f2 := newFixture(t, vfstestCorruptAt0(), Options{})
	_, _, err = get(t, f2.s3(), &s3.GetObjectInput{Bucket: aws.String("c-latest"), Key: aws.String("x")})
	if apiCode(err) != "InternalError" {
		t.Fatalf("corrupt at 0: %v", err)
	}
	if !strings.Contains(fmt.Sprint(err), "integrity") {
		t.Errorf("message does not say why: %v", err)
	}
	_ = http.StatusOK
}
