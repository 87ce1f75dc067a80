package s3api

import (
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// docsKeys is what a listing of docsFiles must show: regular files,
// symlinks resolving to regular files, empty directories as "dir/".
func docsKeys() []string {
	k := []string{"a.txt", "b.html", "noext", "dir/b.txt", "dir/sub/c.txt", "dir/sub/deeper/d", "dir0",
		"dir-x/e", "empty/", "dir/emptysub/", "big.bin", "link", "dir/uplink",
		"odd/a b+c%d#e?f&g=h", "odd/new\nline", "odd/\u00e9", "odd/e\u0301", "odd/back\\slash", "odd/日本語.txt", "setuid"}
	sort.Strings(k)
	return k
}

func manyKeys(n int) []string {
	var k []string
	for p := range manyFiles(n) {
		k = append(k, p)
	}
	sort.Strings(k)
	return k
}

// model is ListObjects by definition: keys under prefix, those with the
// delimiter after the prefix rolled up into common prefixes.
func model(keys []string, prefix, delim string) (contents, prefixes []string) {
	for _, k := range keys {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if i := strings.Index(k[len(prefix):], delim); delim != "" && i >= 0 {
			cp := k[:len(prefix)+i+len(delim)]
			if len(prefixes) == 0 || prefixes[len(prefixes)-1] != cp {
				prefixes = append(prefixes, cp)
			}
			continue
		}
		contents = append(contents, k)
	}
	return
}

// listAll pages through ListObjectsV2 and checks each page's invariants.
func listAll(t *testing.T, c *s3.Client, bucket, prefix, delim string, maxKeys int32) (contents, prefixes []string, pages int) {
	t.Helper()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(maxKeys)}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		out, err := p.NextPage(bg)
		if err != nil {
			t.Fatalf("list %s %q %q page %d: %v", bucket, prefix, delim, pages, err)
		}
		pages++
		n := len(out.Contents) + len(out.CommonPrefixes)
		if int(*out.KeyCount) != n || n > int(maxKeys) {
			t.Fatalf("page %d: KeyCount %d, %d results, max %d", pages, *out.KeyCount, n, maxKeys)
		}
		if *out.IsTruncated && n != int(maxKeys) {
			t.Fatalf("page %d truncated with %d results < max-keys %d", pages, n, maxKeys)
		}
		for _, o := range out.Contents {
			contents = append(contents, *o.Key)
			if o.Owner != nil {
				t.Fatal("Owner without fetch-owner")
			}
		}
		for _, cp := range out.CommonPrefixes {
			prefixes = append(prefixes, *cp.Prefix)
		}
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
	}
	return
}

func TestListMatchesModel(t *testing.T) {
	noLeaks(t)
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	docs, many := docsKeys(), manyKeys(2500)
	for _, tc := range []struct {
		bucket, prefix, delim string
		keys                  []string
	}{
		{"docs-latest", "", "", docs},
		{"docs-latest", "", "/", docs},
		{"docs-latest", "dir", "/", docs},
		{"docs-latest", "dir/", "/", docs},
		{"docs-latest", "dir/sub/", "/", docs},
		{"docs-latest", "dir/sub/deeper/", "/", docs},
		{"docs-latest", "dir/emptysub/", "/", docs},
		{"docs-latest", "odd/", "", docs},
		{"docs-latest", "d", "", docs},
		{"docs-latest", "", "i", docs},
		{"docs-latest", "nothing-here", "/", docs},
		{"many-latest", "", "/", many},
		{"many-latest", "d3/s05/", "/", many},
		{"many-latest", "d6/s12/f0", "", many},
	} {
		wantC, wantP := model(tc.keys, tc.prefix, tc.delim)
		sizes := []int32{1, 3, 1000}
		if tc.bucket == "many-latest" {
			// The fake re-sorts the whole snapshot on every seek: a few
			// page sizes are enough there.
			sizes = []int32{1000}
		}
		for _, mk := range sizes {
			gotC, gotP, _ := listAll(t, c, tc.bucket, tc.prefix, tc.delim, mk)
			if !slices.Equal(gotC, wantC) || !slices.Equal(gotP, wantP) {
				t.Fatalf("%s prefix %q delim %q max %d:\ncontents %q\nwant     %q\nprefixes %q\nwant     %q",
					tc.bucket, tc.prefix, tc.delim, mk, gotC, wantC, gotP, wantP)
			}
		}
	}
}

func TestPagination2500(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	contents, prefixes, pages := listAll(t, f.s3(), "many-latest", "", "", 100)
	if pages != 25 || len(prefixes) != 0 || !slices.Equal(contents, manyKeys(2500)) {
		t.Fatalf("%d pages, %d keys, %d prefixes; want 25 pages of the 2,500 keys in order", pages, len(contents), len(prefixes))
	}
	// V1 with marker: resume after the last key of each page.
	c := f.s3()
	var got []string
	marker := ""
	for pages = 0; ; pages++ {
		out, err := c.ListObjects(bg, &s3.ListObjectsInput{Bucket: aws.String("many-latest"), Marker: aws.String(marker), MaxKeys: aws.Int32(100)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			got = append(got, *o.Key)
			if o.Owner == nil {
				t.Fatal("V1 lists the owner")
			}
		}
		if out.NextMarker != nil {
			t.Fatal("NextMarker without a delimiter")
		}
		if !*out.IsTruncated {
			break
		}
		marker = got[len(got)-1]
	}
	if pages != 24 || !slices.Equal(got, manyKeys(2500)) {
		t.Fatalf("V1: %d pages, %d keys", pages+1, len(got))
	}
}

func TestListV1NextMarker(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	wantC, wantP := model(docsKeys(), "", "/")
	var gotC, gotP []string
	marker := ""
	for range 100 {
		out, err := c.ListObjects(bg, &s3.ListObjectsInput{Bucket: aws.String("docs-latest"), Delimiter: aws.String("/"), Marker: aws.String(marker), MaxKeys: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			gotC = append(gotC, *o.Key)
		}
		for _, p := range out.CommonPrefixes {
			gotP = append(gotP, *p.Prefix)
		}
		if !*out.IsTruncated {
			break
		}
		if out.NextMarker == nil {
			t.Fatal("truncated delimiter listing without NextMarker")
		}
		marker = *out.NextMarker
	}
	if !slices.Equal(gotC, wantC) || !slices.Equal(gotP, wantP) {
		t.Fatalf("V1 pages by NextMarker:\n%q %q\nwant\n%q %q", gotC, gotP, wantC, wantP)
	}
}

func TestListOptions(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	b := aws.String("docs-latest")

	out, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, StartAfter: aws.String("dir/sub/c.txt"), MaxKeys: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 2 || *out.Contents[0].Key != "dir/sub/deeper/d" || *out.Contents[1].Key != "dir/uplink" || *out.StartAfter != "dir/sub/c.txt" {
		t.Fatalf("start-after: %+v", out.Contents)
	}
	// The continuation token wins over an earlier start-after.
	next, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, StartAfter: aws.String("a"), ContinuationToken: out.NextContinuationToken, MaxKeys: aws.Int32(1)})
	if err != nil || *next.Contents[0].Key != "dir0" || *next.ContinuationToken != *out.NextContinuationToken {
		t.Fatalf("continuation: %v %v", next, err)
	}

	out, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("a.txt"), FetchOwner: aws.Bool(true)})
	if err != nil || len(out.Contents) != 1 || out.Contents[0].Owner == nil || *out.Contents[0].Owner.ID == "" {
		t.Fatalf("fetch-owner: %+v %v", out.Contents, err)
	}
	o := out.Contents[0]
	if *o.Size != 7 || o.StorageClass != types.ObjectStorageClassStandard || !o.LastModified.Equal(epoch.Truncate(1e6)) || !strings.HasSuffix(*o.ETag, `-1"`) {
		t.Fatalf("object: %+v", o)
	}

	// Symlinks to regular files carry the target's size and ETag.
	out, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, Prefix: aws.String("link")})
	if err != nil || len(out.Contents) != 1 || *out.Contents[0].ETag != *o.ETag || *out.Contents[0].Size != 7 {
		t.Fatalf("symlink: %+v %v, want a.txt's %s", out.Contents, err, *o.ETag)
	}

	out, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, MaxKeys: aws.Int32(0)})
	if err != nil || len(out.Contents) != 0 || *out.KeyCount != 0 {
		t.Fatalf("max-keys 0: %+v %v", out, err)
	}
	_, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: b, ContinuationToken: aws.String("%%garbage")})
	if apiCode(err) != "InvalidArgument" {
		t.Fatalf("garbage token: %v", err)
	}
	for _, q := range []string{"?list-type=2&max-keys=-1", "?list-type=2&max-keys=x", "?list-type=2&encoding-type=base64", "?list-type=3"} {
		if r := f.raw(t, "GET", "/docs-latest"+q, nil); r.StatusCode != 403 {
			// unsigned: refused before the query is even looked at
			t.Fatalf("unsigned %s: %d", q, r.StatusCode)
		}
	}
	// Over max-keys, capped at 1000.
	out, err = c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("many-latest"), MaxKeys: aws.Int32(5000)})
	if err != nil || len(out.Contents) != 1000 || *out.MaxKeys != 1000 || !*out.IsTruncated {
		t.Fatalf("max-keys 5000: %d keys, max %d, %v", len(out.Contents), *out.MaxKeys, err)
	}
}

func TestListEncodingURL(t *testing.T) {
	f := newFixture(t, fakeCatalog(), Options{})
	c := f.s3()
	out, err := c.ListObjectsV2(bg, &s3.ListObjectsV2Input{Bucket: aws.String("docs-latest"), Prefix: aws.String("odd/"), EncodingType: types.EncodingTypeUrl})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out.Contents {
		if strings.ContainsAny(*o.Key, " \n+#?&=") {
			t.Errorf("key %q not encoded", *o.Key)
		}
		for _, dec := range []func(string) (string, error){url.QueryUnescape, url.PathUnescape} {
			k, err := dec(*o.Key)
			if err != nil {
				t.Fatal(err)
			}
			if dec := k; len(got) == 0 || got[len(got)-1] != dec {
				got = append(got, dec)
			}
		}
	}
	wantC, _ := model(docsKeys(), "odd/", "")
	if !slices.Equal(got, wantC) {
		t.Fatalf("decoded %q\nwant    %q", got, wantC)
	}
	// The raw XML: encoded key, prefix and encoding type.
	req := f.signed(t, "GET", "/docs-latest?list-type=2&prefix=odd%2Fnew&encoding-type=url", nil, time.Time{})
	body, _ := io.ReadAll(req.Body)
	for _, want := range []string{"<Key>odd/new%0Aline</Key>", "<Prefix>odd/new</Prefix>", "<EncodingType>url</EncodingType>",
		`xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`, "<LastModified>2024-05-06T07:08:09.123Z</LastModified>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("XML lacks %s:\n%s", want, body)
		}
	}
}
