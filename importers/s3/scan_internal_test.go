package s3

import (
	"context"
	"errors"
	iofs "io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/plakar-gw/plakar-gw/importers"
)

// build runs the key-to-tree conversion on a listing, without a server.
func build(t *testing.T, prefix string, keys ...string) ([]importers.Record, error) {
	t.Helper()
	var recs []importers.Record
	var scanErr error
	b := &builder{ctx: context.Background(), prefix: prefix, stack: []*level{{path: "/"}}}
	b.yield = func(r importers.Record, err error) bool {
		if err != nil {
			scanErr = err
			return false
		}
		recs = append(recs, r)
		return true
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, k := range keys {
		obj := types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(k))), LastModified: &when, ETag: aws.String(`"e-` + k + `"`)}
		if !b.object(obj) {
			break
		}
	}
	return recs, scanErr
}

func describe(recs []importers.Record) []string {
	var out []string
	for _, r := range recs {
		s := r.Path
		switch {
		case r.Err != nil:
			s += " ERR"
		case r.Mode.IsDir():
			s += "/"
		}
		out = append(out, s)
	}
	return out
}

func TestKeysToTree(t *testing.T) {
	keys := []string{"a b/x", "a.txt", "a/", "a/b/c/d.txt", "a/b/e.txt", "a/f.txt", "empty/", "top.txt"}
	recs, err := build(t, "", keys...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/a b/", "/a b/x", "/a.txt", "/a/", "/a/b/", "/a/b/c/", "/a/b/c/d.txt", "/a/b/e.txt", "/a/f.txt", "/empty/", "/top.txt"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	for _, r := range recs {
		switch r.Path {
		case "/a/b/e.txt":
			if r.Size != int64(len("a/b/e.txt")) || r.ModTime.Year() != 2026 || len(r.Xattrs) != 1 ||
				r.Xattrs[0].Name != EtagXattr || string(r.Xattrs[0].Value) != "e-a/b/e.txt" {
				t.Errorf("%s: %+v", r.Path, r)
			}
		case "/a/b":
			if r.ModTime != dirTime {
				t.Errorf("implied directory /a/b has time %v", r.ModTime)
			}
		case "/a":
			if r.ModTime.Year() != 2026 {
				t.Errorf("directory /a from its a/ object has time %v", r.ModTime)
			}
		}
	}
}

func TestKeysUnderPrefix(t *testing.T) {
	recs, err := build(t, "photos/", "photos/", "photos/2024/x.jpg", "photos/y.jpg")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/2024/", "/2024/x.jpg", "/y.jpg"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestInvalidKeys: keys that are not clean paths are errors quoting the raw
// key, yielded inside the deepest open directory with an escaped name that
// is a clean path of its own; the keys after them are still imported.
func TestInvalidKeys(t *testing.T) {
	keys := []string{"../etc/passwd", "/abs", "a/", "a/../../x", "a//b", "a/./c", "a/ok", "a/z\x00z", "b", "b/c", "c/d/..", "z"}
	slices.Sort(keys)
	recs, err := build(t, "", keys...)
	if err != nil {
		t.Fatal(err)
	}
	var errs, ok []string
	for _, r := range recs {
		if !strings.HasPrefix(r.Path, "/") || strings.Contains(r.Path[1:], "//") || strings.Contains(r.Path, "/../") ||
			strings.HasSuffix(r.Path, "/..") || strings.ContainsRune(r.Path, 0) {
			t.Errorf("unsafe path %q", r.Path)
		}
		if r.Err != nil {
			if !errors.Is(r.Err, iofs.ErrInvalid) {
				t.Errorf("%s: %v does not wrap fs.ErrInvalid", r.Path, r.Err)
			}
			errs = append(errs, r.Err.Error())
			continue
		}
		ok = append(ok, r.Path)
	}
	wantOK := []string{"/a", "/a/ok", "/b", "/z"}
	if !slices.Equal(ok, wantOK) {
		t.Errorf("imported %q, want %q", ok, wantOK)
	}
	for _, k := range []string{"../etc/passwd", "/abs", "a/../../x", "a//b", "a/./c", "a/z\x00z", "b/c", "c/d/.."} {
		found := false
		for _, e := range errs {
			found = found || strings.Contains(e, strconvQuote(k))
		}
		if !found {
			t.Errorf("no error quoting key %q in %q", k, errs)
		}
	}
}

func strconvQuote(s string) string { return `"` + strings.ReplaceAll(s, "\x00", `\x00`) + `"` }

// TestFileThenDirectoryConflict: a key "a" and keys "a/..." cannot both
// be imported; the later ones are errors, even with keys between them.
func TestFileThenDirectoryConflict(t *testing.T) {
	recs, err := build(t, "", "a", "a b", "a-c", "a.txt", "a/x", "a/y", "b")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/a", "/a b", "/a-c", "/a.txt", "/invalid-key:a%2Fx ERR", "/invalid-key:a%2Fy ERR", "/b"}
	if got := describe(recs); !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestOutOfOrderListingFails(t *testing.T) {
	if _, err := build(t, "", "b", "a"); err == nil || !strings.Contains(err.Error(), "out of byte order") {
		t.Errorf("err = %v; want an out-of-order failure", err)
	}
}

func TestParseURL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix string }{
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
		{"s3://b/p", "b", "p/"},
		{"s3://b/p/q/", "b", "p/q/"},
	} {
		b, p, err := parseURL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("parseURL(%q) = %q, %q, %v", c.in, b, p, err)
		}
	}
	for _, in := range []string{"", "s3://", "http://b/p", "s3://key:secret@b/p", "s3://b/a//c", "s3://b/../x"} {
		if _, _, err := parseURL(in); err == nil {
			t.Errorf("parseURL(%q) succeeded", in)
		}
	}
}

func FuzzKeysToTree(f *testing.F) {
	f.Add("a/b\x00../c//d/./e/")
	f.Fuzz(func(t *testing.T, s string) {
		keys := strings.Split(s, "\x00")
		slices.Sort(keys)
		keys = slices.Compact(keys)
		recs, err := build(t, "", keys...)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{"/": true}
		for _, r := range recs {
			if r.Err == nil && seen[r.Path] {
				t.Fatalf("path %q yielded twice", r.Path)
			}
			seen[r.Path] = true
			if !strings.HasPrefix(r.Path, "/") || r.Path != pathClean(r.Path) {
				t.Fatalf("path %q is not clean and absolute", r.Path)
			}
			if !seen[pathDir(r.Path)] {
				t.Fatalf("%q before its parent", r.Path)
			}
		}
	})
}

func pathClean(p string) string { return path.Clean(p) }
func pathDir(p string) string   { return path.Dir(p) }
