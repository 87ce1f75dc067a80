package s3api

import (
	"bytes"
	"crypto/sha256"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
)

// expectedKeys is what S3 must show of a source folder: regular files we
// can read (a mode 000 file is one only as root, like the ingest), links
// resolving inside the folder to regular files, empty directories as
// "dir/". Links to directories, outside, absolute or dangling, and FIFOs
// are not objects.
func expectedKeys(t *testing.T, src string) map[string]string {
	t.Helper()
	keys := map[string]string{} // key -> file holding its bytes
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == src {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			if ents, _ := os.ReadDir(p); len(ents) == 0 {
				keys[rel+"/"] = ""
			}
		case d.Type().IsRegular():
			if f, err := os.Open(p); err == nil {
				f.Close()
				keys[rel] = p
			}
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			if filepath.IsAbs(target) {
				return nil
			}
			real, err := filepath.EvalSymlinks(p)
			if err != nil || !strings.HasPrefix(real, src+"/") {
				return nil
			}
			if st, err := os.Stat(real); err == nil && st.Mode().IsRegular() {
				keys[rel] = real
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func TestEngineTrickyTree(t *testing.T) {
	noLeaks(t)
	repo, root := enginetest.NewRepo(t)
	src := t.TempDir()
	big := int64(5 << 20)
	if testing.Short() {
		big = 1 << 20
	}
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: big, Many: 250}); err != nil {
		t.Fatal(err)
	}
	// A folder holding nothing S3 can show (its summary counts no file):
	// a delimiter listing must not show it as a common prefix either.
	if err := os.MkdirAll(filepath.Join(src, "only-dangling", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent/target", filepath.Join(src, "only-dangling", "deeper", "link")); err != nil {
		t.Fatal(err)
	}
	enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "tricky"})
	f := newFixture(t, repo, Options{})
	c := f.s3()

	want := expectedKeys(t, src)
	keys := sortedKeys(want)
	for _, k := range []string{"\u00e9", "e\u0301", "new\nline", "a%20b?c=d&e#f+g", "back\\slash", "日本語/ファイル.txt",
		"link-rel", "nested/a/link-up", "empty-dir/", "empty-dir-2/also-empty/", "many/f00249", "nested/hard2"} {
		if _, ok := want[k]; !ok {
			t.Fatalf("the expected set lacks %q: %q", k, keys)
		}
	}
	got, prefixes, _ := listAll(t, c, "tricky-latest", "", "", 1000)
	if !slices.Equal(got, keys) || len(prefixes) != 0 {
		t.Fatalf("listing:\n%q\nwant\n%q", got, keys)
	}
	// Smaller pages and delimiter listings at several depths, against
	// the model over the same keys.
	for _, tc := range []struct {
		prefix, delim string
		max           int32
	}{{"", "", 7}, {"", "/", 3}, {"nested/", "/", 2}, {"nested/a/", "/", 1}, {"nested/a/b/", "/", 2}, {"many/", "/", 100}, {"empty-dir-2/", "/", 1}, {"only-dangling/", "/", 5}} {
		wantC, wantP := model(keys, tc.prefix, tc.delim)
		gotC, gotP, _ := listAll(t, c, "tricky-latest", tc.prefix, tc.delim, tc.max)
		if !slices.Equal(gotC, wantC) || !slices.Equal(gotP, wantP) {
			t.Fatalf("prefix %q delim %q max %d:\n%q %q\nwant\n%q %q", tc.prefix, tc.delim, tc.max, gotC, gotP, wantC, wantP)
		}
	}

	// Every object's bytes equal the source's, names of every kind.
	for _, key := range keys {
		body, out, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("tricky-latest"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GET %q: %v", key, err)
		}
		var src []byte
		if want[key] != "" {
			if src, err = os.ReadFile(want[key]); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(body, src) || *out.ContentLength != int64(len(src)) {
			t.Fatalf("GET %q: %d bytes differ from the source's %d", key, len(body), len(src))
		}
	}
	// A range in the middle of the big file crosses chunk boundaries.
	data, _ := os.ReadFile(filepath.Join(src, "big.bin"))
	body, _, err := get(t, c, &s3.GetObjectInput{Bucket: aws.String("tricky-latest"), Key: aws.String("big.bin"), Range: aws.String("bytes=300000-900000")})
	if err != nil || !bytes.Equal(body, data[300000:900001]) {
		t.Fatalf("range of big.bin: %d bytes, %v", len(body), err)
	}
	for _, key := range []string{"link-abs", "link-dangling", "link-dir", "fifo", "nested/a/", "link-dir/b/mid.bin/"} {
		if _, err := c.HeadObject(bg, &s3.HeadObjectInput{Bucket: aws.String("tricky-latest"), Key: aws.String(key)}); httpStatus(err) != 404 {
			t.Errorf("HEAD %q: %v, want 404", key, err)
		}
	}

	// Writes change nothing in the repository folder.
	before := treeHash(t, root)
	c.PutObject(bg, &s3.PutObjectInput{Bucket: aws.String("tricky-latest"), Key: aws.String("new"), Body: strings.NewReader("x")})
	c.DeleteObject(bg, &s3.DeleteObjectInput{Bucket: aws.String("tricky-latest"), Key: aws.String("big.bin")})
	c.CreateBucket(bg, &s3.CreateBucketInput{Bucket: aws.String("another")})
	c.DeleteBucket(bg, &s3.DeleteBucketInput{Bucket: aws.String("tricky-latest")})
	if after := treeHash(t, root); after != before {
		t.Fatal("the repository folder changed after refused writes")
	}
	// The snap-<id> bucket is the same snapshot.
	out, err := c.ListBuckets(bg, &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 2 || !strings.HasPrefix(*out.Buckets[0].Name, "snap-") || *out.Buckets[1].Name != "tricky-latest" {
		t.Fatalf("buckets %+v %v", out.Buckets, err)
	}
	gotSnap, _, _ := listAll(t, c, *out.Buckets[0].Name, "", "", 1000)
	if !slices.Equal(gotSnap, keys) {
		t.Fatal("snap- bucket lists differently from its alias")
	}
}

// treeHash hashes every file's path, mode and bytes under root.
func treeHash(t *testing.T, root string) string {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		io.WriteString(h, p+"\x00"+st.Mode().String()+"\x00")
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(h.Sum(nil))
}

// TestEngineCorruptAborts: a damaged pack under a real repository, read
// through the streaming path (the engine file writes its chunks to the
// connection itself): the client gets an error status or a broken body,
// and every byte it got is right.
func TestEngineCorruptAborts(t *testing.T) {
	noLeaks(t)
	repo, root := enginetest.NewRepo(t)
	src := t.TempDir()
	data := enginetest.RandData(21, 6<<20)
	if err := enginetest.WriteFile(filepath.Join(src, "big.bin"), data); err != nil {
		t.Fatal(err)
	}
	enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "c"})
	enginetest.DamageLargestPack(t, root)
	f := newFixture(t, repo, Options{})
	r := f.signed(t, "GET", "/c-latest/big.bin", nil, time.Time{})
	got, err := io.ReadAll(r.Body)
	r.Body.Close()
	switch {
	case r.StatusCode == 200 && err == nil && int64(len(got)) == r.ContentLength:
		t.Fatalf("a damaged file downloaded as a success (%d bytes)", len(got))
	case r.StatusCode != 200 && r.StatusCode != 500:
		t.Fatalf("status %d", r.StatusCode)
	case r.StatusCode == 200 && !bytes.Equal(got, data[:len(got)]):
		t.Fatal("the bytes sent before the failure are wrong")
	}
}
