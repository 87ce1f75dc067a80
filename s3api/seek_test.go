package s3api

import (
	"context"
	"iter"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// countingCatalog counts the entries Walk yields, to show that listings
// seek instead of scanning.
type countingCatalog struct {
	vfs.Catalog
	yielded atomic.Int64
}

type countingFS struct {
	vfs.FS
	n *atomic.Int64
}

func (c *countingCatalog) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	f, err := c.Catalog.OpenSnapshot(ctx, name)
	if err != nil {
		return nil, err
	}
	return countingFS{f, &c.yielded}, nil
}

func (f countingFS) Walk(ctx context.Context, after string) iter.Seq2[vfs.Entry, error] {
	return func(yield func(vfs.Entry, error) bool) {
		for e, err := range f.FS.Walk(ctx, after) {
			f.n.Add(1)
			if !yield(e, err) {
				return
			}
		}
	}
}

func TestListingSeeks(t *testing.T) {
	cat := &countingCatalog{Catalog: fakeCatalog()}
	f := newFixture(t, cat, Options{})
	c := f.s3()
	for _, tc := range []struct {
		name          string
		in            s3.ListObjectsV2Input
		results, most int64
	}{
		// 7 directories over 2,500 keys: a few entries per directory, not
		// their subtrees.
		{"root with delimiter", s3.ListObjectsV2Input{Delimiter: aws.String("/")}, 7, 7 * 4},
		{"one level down", s3.ListObjectsV2Input{Prefix: aws.String("d3/"), Delimiter: aws.String("/")}, 13, 13 * 3},
		// A deep prefix starts at its keys, not at the first key.
		{"deep prefix", s3.ListObjectsV2Input{Prefix: aws.String("d6/s12/")}, 27, 27 + 4},
		// A page of 10 reads about 10 entries after the token's key.
		{"page", s3.ListObjectsV2Input{MaxKeys: aws.Int32(10), StartAfter: aws.String("d4/s05/f01500")}, 10, 10 + 4},
	} {
		in := tc.in
		in.Bucket = aws.String("many-latest")
		cat.yielded.Store(0)
		out, err := c.ListObjectsV2(bg, &in)
		if err != nil {
			t.Fatal(err)
		}
		got := int64(len(out.Contents) + len(out.CommonPrefixes))
		t.Logf("%s: %d results, %d walked", tc.name, got, cat.yielded.Load())
		if n := cat.yielded.Load(); got != tc.results || n > tc.most {
			t.Errorf("%s: %d results from %d walked entries; want %d from at most %d", tc.name, got, n, tc.results, tc.most)
		}
	}
}
