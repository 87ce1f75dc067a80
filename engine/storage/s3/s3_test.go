package s3_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	s3store "github.com/plakar-gw/plakar-gw/engine/storage/s3"
	"github.com/plakar-gw/plakar-gw/engine/storage/storagetest"
)

// server returns the S3 server the integration script started
// (scripts/it/s3store.sh sets PLAKAR_GW_TEST_S3_ENDPOINT and the keys).
func server(t *testing.T) s3store.Config {
	t.Helper()
	ep := os.Getenv("PLAKAR_GW_TEST_S3_ENDPOINT")
	if ep == "" {
		if os.Getenv("PLAKAR_GW_REQUIRE_S3") != "" {
			t.Fatal("PLAKAR_GW_REQUIRE_S3 is set but PLAKAR_GW_TEST_S3_ENDPOINT is not")
		}
		t.Skip("no S3 server: scripts/it/s3store.sh runs these tests against a real one (PLAKAR_GW_TEST_S3_ENDPOINT)")
	}
	return envConfig()
}

func envConfig() s3store.Config {
	return s3store.Config{Endpoint: os.Getenv("PLAKAR_GW_TEST_S3_ENDPOINT"), PathStyle: true, Region: "us-east-1",
		AccessKeyID: os.Getenv("PLAKAR_GW_TEST_S3_ACCESS_KEY"), SecretAccessKey: os.Getenv("PLAKAR_GW_TEST_S3_SECRET_KEY"),
		PartSize: 5 << 20} // S3's minimum part size, so that LargeObject goes multipart
}

// TestMain lets the test binary run as a child process of TestLockRace.
func TestMain(m *testing.M) {
	enginetest.LockRaceChild(openLocation)
	os.Exit(m.Run())
}

// openLocation opens "bucket/prefix" on the test server.
func openLocation(loc string) (storage.Store, error) {
	cfg := envConfig()
	cfg.Bucket, cfg.Prefix, _ = strings.Cut(loc, "/")
	return s3store.New(context.Background(), cfg)
}

// newBucket makes an empty bucket for one test.
func newBucket(t *testing.T, cfg s3store.Config) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "pgw-test-" + hex.EncodeToString(b)
	ac, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("us-east-1"),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	if err != nil {
		t.Fatal(err)
	}
	c := awss3.NewFromConfig(ac, func(o *awss3.Options) { o.BaseEndpoint = aws.String(cfg.Endpoint); o.UsePathStyle = true })
	if _, err := c.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: &name}); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestConformance(t *testing.T) {
	cfg := server(t)
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c := cfg
		c.Bucket, c.Prefix = newBucket(t, cfg), "repo/one"
		s, err := s3store.New(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestMissingBucket(t *testing.T) {
	cfg := server(t)
	cfg.Bucket = "pgw-no-such-bucket"
	if _, err := s3store.New(context.Background(), cfg); err == nil {
		t.Fatal("opened a missing bucket")
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""}, {"s3://b/", "b", ""}, {"s3://b/p/q", "b", "p/q"}, {"s3://b/p/q/", "b", "p/q"},
	} {
		b, p, err := s3store.ParseURL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("%s: %q %q %v", c.in, b, p, err)
		}
	}
	for _, bad := range []string{"s3://", "http://b/p", "s3://b/a/../c", "s3://b/a//c"} {
		if _, _, err := s3store.ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
