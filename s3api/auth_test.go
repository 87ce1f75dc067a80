package s3api

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestPresigned(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	pc := s3.NewPresignClient(f.s3())
	for _, key := range []string{"a.txt", "odd/a b+c%d#e?f&g=h", "odd/日本語.txt", "odd/new\nline"} {
		req, err := pc.PresignGetObject(bg, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String(key),
			ResponseContentDisposition: aws.String("attachment")}, s3.WithPresignExpires(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(req.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(body, docsFiles()[key].Data) || resp.Header.Get("Content-Disposition") != "attachment" {
			t.Fatalf("presigned GET %q: %d %s", key, resp.StatusCode, body)
		}
	}
	req, err := pc.PresignGetObject(bg, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("a.txt")}, s3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// Tampering with the URL breaks the signature.
	resp, _ := http.Get(strings.Replace(req.URL, "a.txt", "b.html", 1))
	expectError(t, resp, 403, "SignatureDoesNotMatch")
	// Two minutes later it has expired.
	f.clock.shift(2 * time.Minute)
	resp, _ = http.Get(req.URL)
	expectError(t, resp, 403, "AccessDenied")
	f.clock.shift(-2 * time.Minute)
	// More than a week is refused by S3 (the SDK refuses to make one).
	long := strings.Replace(req.URL, "X-Amz-Expires=60", "X-Amz-Expires=604801", 1)
	resp, _ = http.Get(long)
	expectError(t, resp, 400, "AuthorizationQueryParametersError")
}

// expectError checks an S3 XML error answer.
func expectError(t *testing.T, resp *http.Response, status int, code string) {
	t.Helper()
	defer resp.Body.Close()
	var e errorBody
	b, _ := io.ReadAll(resp.Body)
	if err := xml.Unmarshal(b, &e); err != nil && resp.Request.Method != "HEAD" {
		t.Fatalf("not S3 XML (%v): %s", err, b)
	}
	if resp.StatusCode != status || (resp.Request.Method != "HEAD" && e.Code != code) {
		t.Fatalf("%s %s: %d %s, want %d %s\n%s", resp.Request.Method, resp.Request.URL, resp.StatusCode, e.Code, status, code, b)
	}
	id := resp.Header.Get("x-amz-request-id")
	if id == "" || resp.Header.Get("x-amz-id-2") == "" || (resp.Request.Method != "HEAD" && e.RequestID != id) {
		t.Fatalf("request id header %q, body %q", id, e.RequestID)
	}
}

func TestAuthFailures(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	in := &s3.ListObjectsV2Input{Bucket: aws.String("docs-latest")}
	_, err := f.client(testKey, "wrong").ListObjectsV2(bg, in)
	if apiCode(err) != "SignatureDoesNotMatch" || httpStatus(err) != 403 {
		t.Errorf("wrong secret: %v", err)
	}
	_, err = f.client("NOBODY", testSecret).ListObjectsV2(bg, in)
	if apiCode(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown key: %v", err)
	}
	f.clock.shift(16 * time.Minute)
	_, err = f.s3().ListObjectsV2(bg, in)
	if apiCode(err) != "RequestTimeTooSkewed" {
		t.Errorf("skewed +16 min: %v", err)
	}
	f.clock.shift(-32 * time.Minute)
	_, err = f.s3().ListObjectsV2(bg, in)
	if apiCode(err) != "RequestTimeTooSkewed" {
		t.Errorf("skewed -16 min: %v", err)
	}
	f.clock.shift(16*time.Minute + 14*time.Minute)
	if _, err = f.s3().ListObjectsV2(bg, in); err != nil {
		t.Errorf("14 min of skew is allowed: %v", err)
	}
	f.clock.shift(-14 * time.Minute)

	// No credentials: anonymous off refuses, on serves.
	anon := func(o *s3.Options) { o.Credentials = aws.AnonymousCredentials{} }
	_, err = f.client("", "", anon).ListObjectsV2(bg, in)
	if apiCode(err) != "AccessDenied" {
		t.Errorf("anonymous when off: %v", err)
	}
	fa := newFixture(t, fakeCatalog(), Options{Anonymous: true})
	if _, err := fa.client("", "", anon).ListObjectsV2(bg, in); err != nil {
		t.Errorf("anonymous when on: %v", err)
	}
	// Anonymous on does not make a bad signature good.
	if _, err := fa.client(testKey, "wrong").ListObjectsV2(bg, in); apiCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("bad signature with anonymous on: %v", err)
	}

	// A configured region must be the signed one.
	fr := newFixture(t, fakeCatalog(), Options{Region: "eu-west-3"})
	if _, err := fr.s3().ListObjectsV2(bg, in); apiCode(err) != "AuthorizationHeaderMalformed" {
		t.Errorf("wrong region: %v", err)
	}
	if _, err := fr.client(testKey, testSecret, func(o *s3.Options) { o.Region = "eu-west-3" }).ListObjectsV2(bg, in); err != nil {
		t.Errorf("right region: %v", err)
	}

	for _, tc := range []struct {
		auth, code string
		status     int
	}{
		{"AWS AKID:c2ln", "InvalidRequest", 400},
		{"AWS4-HMAC-SHA256 garbage", "AuthorizationHeaderMalformed", 400},
		{"AWS4-HMAC-SHA256 Credential=AK/2024/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00", "AuthorizationHeaderMalformed", 400},
		{"AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=00", "AuthorizationHeaderMalformed", 400},
		{"Bearer xyz", "AuthorizationHeaderMalformed", 400},
	} {
		resp := f.raw(t, "GET", "/docs-latest", map[string]string{"Authorization": tc.auth, "X-Amz-Date": "20240101T000000Z", "X-Amz-Content-Sha256": unsignedPayload})
		expectError(t, resp, tc.status, tc.code)
	}
	resp := f.raw(t, "GET", "/docs-latest?AWSAccessKeyId=x&Signature=y&Expires=1", nil)
	expectError(t, resp, 400, "InvalidRequest")

	// The SDK's own signer, at chosen times and with a body hash.
	resp = f.signed(t, "GET", "/docs-latest/a.txt", nil, time.Now().Add(-20*time.Minute))
	expectError(t, resp, 403, "RequestTimeTooSkewed")
	resp = f.signed(t, "GET", "/docs-latest/a.txt", nil, time.Time{})
	if resp.StatusCode != 200 {
		t.Errorf("signed GET: %d", resp.StatusCode)
	}
	req := f.request(t, "GET", "/docs-latest/a.txt", nil)
	req.Header.Set("X-Amz-Content-Sha256", strings.Repeat("ab", 32))
	v4.NewSigner().SignHTTP(bg, aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}, req, strings.Repeat("ab", 32), "s3", "us-east-1", time.Now())
	expectError(t, f.do(t, req), 400, "XAmzContentSHA256Mismatch")
}

// Every write is refused, signed or not, and the catalog is unchanged.
func TestWritesRefused(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	b, k := aws.String("docs-latest"), aws.String("a.txt")
	ops := map[string]func() error{
		"PutObject": func() error {
			_, err := c.PutObject(bg, &s3.PutObjectInput{Bucket: b, Key: k, Body: strings.NewReader("overwrite")})
			return err
		},
		"CopyObject": func() error {
			_, err := c.CopyObject(bg, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String("docs-latest/a.txt")})
			return err
		},
		"DeleteObject": func() error { _, err := c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: b, Key: k}); return err },
		"DeleteObjects": func() error {
			_, err := c.DeleteObjects(bg, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: k}}}})
			return err
		},
		"CreateMultipartUpload": func() error {
			_, err := c.CreateMultipartUpload(bg, &s3.CreateMultipartUploadInput{Bucket: b, Key: k})
			return err
		},
		"UploadPart": func() error {
			_, err := c.UploadPart(bg, &s3.UploadPartInput{Bucket: b, Key: k, UploadId: aws.String("u"), PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
			return err
		},
		"CompleteMultipartUpload": func() error {
			_, err := c.CompleteMultipartUpload(bg, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String("u")})
			return err
		},
		"AbortMultipartUpload": func() error {
			_, err := c.AbortMultipartUpload(bg, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String("u")})
			return err
		},
		"CreateBucket": func() error {
			_, err := c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("new-bucket")})
			return err
		},
		"DeleteBucket": func() error { _, err := c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: b}); return err },
		"PutObjectAcl": func() error {
			_, err := c.PutObjectAcl(bg, &s3.PutObjectAclInput{Bucket: b, Key: k, ACL: types.ObjectCannedACLPublicRead})
			return err
		},
		"PutBucketAcl": func() error {
			_, err := c.PutBucketAcl(bg, &s3.PutBucketAclInput{Bucket: b, ACL: types.BucketCannedACLPublicRead})
			return err
		},
		"PutObjectTagging": func() error {
			_, err := c.PutObjectTagging(bg, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}})
			return err
		},
		"DeleteObjectTagging": func() error {
			_, err := c.DeleteObjectTagging(bg, &s3.DeleteObjectTaggingInput{Bucket: b, Key: k})
			return err
		},
		"PutBucketPolicy": func() error {
			_, err := c.PutBucketPolicy(bg, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String("{}")})
			return err
		},
		"DeleteBucketPolicy": func() error { _, err := c.DeleteBucketPolicy(bg, &s3.DeleteBucketPolicyInput{Bucket: b}); return err },
		"PutBucketVersioning": func() error {
			_, err := c.PutBucketVersioning(bg, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		},
	}
	for name, op := range ops {
		err := op()
		if apiCode(err) != "AccessDenied" || httpStatus(err) != 403 {
			t.Errorf("%s: %v, want 403 AccessDenied", name, err)
		}
	}
	for _, m := range []string{"PUT", "POST", "DELETE", "PATCH", "OPTIONS"} {
		expectError(t, f.raw(t, m, "/docs-latest/a.txt", nil), 403, "AccessDenied")
	}
	body, _, err := get(t, c, &s3.GetObjectInput{Bucket: b, Key: k})
	if err != nil || string(body) != "hello a" {
		t.Fatalf("a.txt after the writes: %q %v", body, err)
	}
	if _, err := c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String("new-bucket")}); err == nil {
		t.Fatal("CreateBucket made a bucket")
	}
}

func TestErrorsAndSubresources(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	sg := func(target string) *http.Response { return f.signed(t, "GET", target, nil, time.Time{}) }
	expectError(t, sg("/nope-latest"), 404, "NoSuchBucket")
	expectError(t, sg("/nope-latest/a.txt"), 404, "NoSuchBucket")
	expectError(t, sg("/docs-latest/nope"), 404, "NoSuchKey")
	expectError(t, f.signed(t, "HEAD", "/docs-latest/nope", nil, time.Time{}), 404, "")
	for _, q := range []string{"acl", "policy", "tagging", "cors", "lifecycle", "uploads", "versions", "website", "encryption", "object-lock"} {
		expectError(t, sg("/docs-latest?"+q), 501, "NotImplemented")
	}
	for _, q := range []string{"acl", "tagging", "torrent", "retention", "legal-hold", "uploadId=x"} {
		expectError(t, sg("/docs-latest/a.txt?"+q), 501, "NotImplemented")
	}
	expectError(t, sg("/docs-latest/a.txt?versionId=v123"), 400, "InvalidArgument")
	expectError(t, sg("/docs-latest/a.txt?partNumber=abc"), 400, "InvalidArgument")
	expectError(t, sg("/docs-latest/a.txt?attributes"), 400, "InvalidArgument")
	expectError(t, sg("/docs-latest?list-type=2&max-keys=-1"), 400, "InvalidArgument")
	expectError(t, sg("/docs-latest?list-type=2&encoding-type=base64"), 400, "InvalidArgument")
	expectError(t, sg("/docs-latest?list-type=2&continuation-token=bm9wZQ"), 400, "InvalidArgument")
	// Unknown parameters that name no operation are ignored, as S3 does.
	if r := sg("/docs-latest/a.txt?x-id=GetObject&versionId=null&whatever=1"); r.StatusCode != 200 {
		t.Errorf("ignored parameters: %d", r.StatusCode)
	}
	r := sg("/docs-latest/nope")
	var e errorBody
	xml.NewDecoder(r.Body).Decode(&e)
	if e.Resource != "/docs-latest/nope" || e.Message == "" {
		t.Errorf("error body %+v", e)
	}
}

// Virtual-hosted style: the SDK reaches BUCKET.s3.test, resolved to the
// test server by a custom dialer.
func TestVirtualHosted(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	addr := f.srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	for _, domains := range [][]string{nil, {"s3.test"}} {
		f.h.opt.Domains = domains
		c := f.client(testKey, testSecret, func(o *s3.Options) {
			o.UsePathStyle = false
			o.BaseEndpoint = aws.String("http://s3.test:" + port)
			o.HTTPClient = &http.Client{Transport: tr}
		})
		out, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("docs-latest"), Prefix: aws.String("dir/"), Delimiter: aws.String("/")})
		if err != nil || len(out.Contents) != 2 || len(out.CommonPrefixes) != 2 || *out.Name != "docs-latest" {
			t.Fatalf("virtual-hosted list (domains %v): %+v %v", domains, out, err)
		}
		body, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("odd/a b+c%d#e?f&g=h")})
		if err != nil || string(body) != "odd" {
			t.Fatalf("virtual-hosted GET: %q %v", body, err)
		}
		_, err = c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("nope-latest"), Key: aws.String("a.txt")})
		if httpStatus(err) != 404 {
			t.Fatalf("virtual-hosted missing bucket: %v", err)
		}
	}
}
