package s3api

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
)

// apiCode is the S3 error code of err, "" if none.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestBuckets(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	out, err := c.ListBuckets(bg, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, *b.Name)
	}
	// Bad_Job-latest is not a valid bucket name: only its snap- bucket.
	want := []string{"corrupt-latest", "docs-latest", "many-latest", "snap-a1a1a1a1a1a1", "snap-b2b2b2b2b2b2", "snap-c3c3c3c3c3c3", "snap-d4d4d4d4d4d4"}
	if !slices.Equal(names, want) {
		t.Fatalf("buckets %q, want %q", names, want)
	}
	if got := *out.Buckets[1].CreationDate; !got.Equal(epoch.Truncate(time.Millisecond)) {
		t.Errorf("creation date %v, want the snapshot time %v", got, epoch)
	}
	if *out.Owner.ID == "" {
		t.Error("no owner")
	}

	for _, b := range []string{"docs-latest", "snap-a1a1a1a1a1a1"} {
		if _, err := c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Errorf("HeadBucket %s: %v", b, err)
		}
	}
	_, err = c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String("nope-latest")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadBucket of a missing bucket: %v, want NotFound", err)
	}
	_, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("nope-latest")})
	if apiCode(err) != "NoSuchBucket" {
		t.Errorf("list of a missing bucket: %v", err)
	}

	loc, err := c.GetBucketLocation(bg, &s3.GetBucketLocationInput{Bucket: aws.String("docs-latest")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location %q %v, want empty (us-east-1)", loc.LocationConstraint, err)
	}
	f2 := newFixture(t, fakeCatalog(), Options{Region: "eu-west-3"})
	loc, err = f2.client(testKey, testSecret, func(o *s3.Options) { o.Region = "eu-west-3" }).
		GetBucketLocation(bg, &s3.GetBucketLocationInput{Bucket: aws.String("docs-latest")})
	if err != nil || loc.LocationConstraint != "eu-west-3" {
		t.Errorf("location %q %v, want eu-west-3", loc.LocationConstraint, err)
	}
	ver, err := c.GetBucketVersioning(bg, &s3.GetBucketVersioningInput{Bucket: aws.String("docs-latest")})
	if err != nil || ver.Status != "" {
		t.Errorf("versioning %q %v, want never enabled", ver.Status, err)
	}
}

// A new snapshot appears within the cache's lifetime, and the alias
// moves to it.
func TestNewSnapshotVisible(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	if _, err := c.ListBuckets(bg, &s3.ListBucketsInput{}); err != nil {
		t.Fatal(err)
	}
	f.cat.Add(&vfstest.Snapshot{Info: vfstest.Info(0xe5, "docs", epoch.Add(24*time.Hour)), Files: manyFiles(3)})
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.HeadBucket(bg, &s3.HeadBucketInput{Bucket: aws.String("snap-e5e5e5e5e5e5")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("new snapshot not visible after 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	out, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("docs-latest")})
	if err != nil || len(out.Contents) != 3 {
		t.Fatalf("docs-latest after a new docs snapshot: %d keys, %v; want the new snapshot's 3", len(out.Contents), err)
	}
}

// One log line per request: method, bucket, key, status, bytes, duration.
func TestRequestLog(t *testing.T) {
	var buf syncBuffer
	f := newFixture(t, fakeCatalog(), Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	c := f.s3()
	if _, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("dir/b.txt")}); err != nil {
		t.Fatal(err)
	}
	c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("docs-latest"), Key: aws.String("nope")})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), buf.String())
	}
	for i, want := range []string{"method=GET bucket=docs-latest key=dir/b.txt status=200 bytes=3 duration=", "method=HEAD bucket=docs-latest key=nope status=404 bytes=0"} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("log line %q lacks %q", lines[i], want)
		}
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
