package s3_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	s3importer "github.com/plakar-gw/plakar-gw/importers/s3"
)

// The tests in this file need a real S3 server. scripts/it/importers.sh
// starts versitygw (scripts/s3server.sh) and sets:
//
//	PLAKAR_GW_TEST_S3_ENDPOINT   http://127.0.0.1:PORT
//	PLAKAR_GW_TEST_S3_ACCESS_KEY, PLAKAR_GW_TEST_S3_SECRET_KEY
//
// Each test makes its own bucket.
const itScript = "scripts/it/importers.sh"

type server struct {
	endpoint, key, secret string
	client                *s3.Client
}

func realServer(t *testing.T) *server {
	t.Helper()
	s := &server{endpoint: os.Getenv("PLAKAR_GW_TEST_S3_ENDPOINT"), key: os.Getenv("PLAKAR_GW_TEST_S3_ACCESS_KEY"),
		secret: os.Getenv("PLAKAR_GW_TEST_S3_SECRET_KEY")}
	if s.endpoint == "" || s.key == "" || s.secret == "" {
		t.Skipf("no S3 server: PLAKAR_GW_TEST_S3_ENDPOINT, _ACCESS_KEY and _SECRET_KEY are set by %s, which starts versitygw", itScript)
	}
	s.client = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.key, s.secret, "")})
	return s
}

// bucket creates a fresh bucket, emptied and removed after the test.
func (s *server) bucket(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "t-" + strings.ToLower(hex.EncodeToString(b))
	if _, err := s.client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		pages := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				break
			}
			for _, o := range page.Contents {
				s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key})
			}
		}
		s.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	})
	return name
}

func (s *server) put(t *testing.T, bucket, key, content string) {
	t.Helper()
	_, err := s.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(content)})
	if err != nil {
		t.Fatalf("PutObject %q: %v", key, err)
	}
}

func (s *server) config(url string) s3importer.Config {
	return s3importer.Config{URL: url, Endpoint: s.endpoint, PathStyle: true, Region: "us-east-1",
		AccessKeyID: s.key, SecretAccessKey: s.secret}
}

func newImporter(t *testing.T, cfg s3importer.Config) *s3importer.Importer {
	t.Helper()
	imp, err := s3importer.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { imp.Close() })
	return imp
}
