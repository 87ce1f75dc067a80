package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// TestServeTwoGatewaysOnS3Repository: a repository on a real S3 server,
// two serve processes with their own caches, an ingest through a third
// process shows on both within 5 s, and both serve identical bytes.
func TestServeTwoGatewaysOnS3Repository(t *testing.T) {
	c := newS3CLI(t)
	bin := buildBinary(t)
	t.Setenv("PLAKAR_GW_ACCESS_KEY_ID", "GWKEY")
	t.Setenv("PLAKAR_GW_SECRET_ACCESS_KEY", "gwsecret")
	c.ok("init")
	src := filepath.Join(c.dir, "src")
	big := enginetest.RandData(5, 8<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "big.bin"), big); err != nil {
		t.Fatal(err)
	}
	c.ok("ingest", "--job", "first", src)

	var gws [2]*server
	for i := range gws {
		// Each gateway has its own cache folder, as on separate machines.
		cmd := []string{"--cache-dir", filepath.Join(c.dir, fmt.Sprintf("cache-gw%d", i))}
		gws[i] = startServeArgs(t, bin, []string{"s3"}, append(cmd, "serve", "--s3", "127.0.0.1:0")...)
	}
	if err := enginetest.WriteFile(filepath.Join(src, "new.txt"), []byte("made by a third process")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c.ok("--cache-dir", filepath.Join(c.dir, "cache-ingest"), "ingest", "--job", "second", src)
	for i, gw := range gws {
		cl := s3Client(gw.addrs["s3"], "GWKEY", "gwsecret")
		eventually(t, 5*time.Second-time.Since(start)+time.Second, fmt.Sprintf("gateway %d sees second-latest", i), func() error {
			if !buckets(t, cl)["second-latest"] {
				return errors.New("no bucket second-latest")
			}
			return nil
		})
		for _, k := range []string{"big.bin", "new.txt"} {
			out, err := cl.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("second-latest"), Key: aws.String(k)})
			if err != nil {
				t.Fatalf("gateway %d GET %s: %v", i, k, err)
			}
			got, err := io.ReadAll(out.Body)
			out.Body.Close()
			want := big
			if k == "new.txt" {
				want = []byte("made by a third process")
			}
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("gateway %d %s: %d bytes, %v", i, k, len(got), err)
			}
		}
	}
	t.Logf("the third process's snapshot was on both gateways %v after its ingest started", time.Since(start))

	// big.bin read from the bucket a second time: its chunks are now hot,
	// kept in gateway 0's disk chunk cache, and read back right from it.
	cl := s3Client(gws[0].addrs["s3"], "GWKEY", "gwsecret")
	for range 2 {
		out, err := cl.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("second-latest"), Key: aws.String("big.bin")})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("GET big.bin again: %d bytes, %v", len(got), err)
		}
	}
	if cached, _ := filepath.Glob(filepath.Join(c.dir, "cache-gw0", "*", "chunks", "*", "*")); len(cached) < 8 {
		t.Errorf("gateway 0 keeps %d chunks of an 8 MiB file read three times on disk", len(cached))
	}
}

// TestRepoCopyFolderToS3: a folder repository copied to the S3 server
// opens there with the same passphrase and restores the same bytes.
func TestRepoCopyFolderToS3(t *testing.T) {
	c := newCLI(t)
	bucket := s3Bucket(t, "pgw-copy-")
	c.ok("init")
	repoCopyRoundTrip(t, c, "s3://"+bucket+"/copied")
}

// newS3CLI is newCLI with the repository in a new bucket of the S3 server
// that scripts/it/s3store.sh starts; without it the test skips.
func newS3CLI(t *testing.T) *cli {
	t.Helper()
	c := newCLI(t)
	c.repo = "s3://" + s3Bucket(t, "pgw-cli-") + "/repo"
	t.Setenv("PLAKAR_GW_REPO", c.repo)
	return c
}

// s3Bucket makes a bucket named PREFIX<random> on the S3 server that
// scripts/it/s3store.sh starts, and points the repository.s3 settings at
// that server; without it the test skips.
func s3Bucket(t *testing.T, prefix string) string {
	t.Helper()
	ep := os.Getenv("PLAKAR_GW_TEST_S3_ENDPOINT")
	if ep == "" {
		if os.Getenv("PLAKAR_GW_REQUIRE_S3") != "" {
			t.Fatal("PLAKAR_GW_REQUIRE_S3 is set but PLAKAR_GW_TEST_S3_ENDPOINT is not")
		}
		t.Skip("no S3 server: scripts/it/s3store.sh runs this test against a real one")
	}
	key, secret := os.Getenv("PLAKAR_GW_TEST_S3_ACCESS_KEY"), os.Getenv("PLAKAR_GW_TEST_S3_SECRET_KEY")
	b := make([]byte, 6)
	rand.Read(b)
	bucket := prefix + hex.EncodeToString(b)
	if _, err := s3Client(ep[len("http://"):], key, secret).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLAKAR_GW_REPO_S3_ENDPOINT", ep)
	t.Setenv("PLAKAR_GW_REPO_S3_PATH_STYLE", "true")
	t.Setenv("PLAKAR_GW_REPO_S3_ACCESS_KEY_ID", key)
	t.Setenv("PLAKAR_GW_REPO_S3_SECRET_ACCESS_KEY", secret)
	return bucket
}
