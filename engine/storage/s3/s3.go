// Package s3 is the storage.Store on S3-compatible object storage (AWS S3,
// MinIO, Ceph RGW, SeaweedFS, versitygw), with aws-sdk-go-v2. Objects are
// laid out as on disk under a prefix: config/config, packs/xx/NAME (two
// hex characters of the name spread packs over key prefixes), index/NAME,
// snapshots/NAME, locks/NAME.
//
// Atomicity comes from S3 itself: a PUT or a completed multipart upload
// appears whole or not at all, and an aborted upload leaves no object.
// Listing after writing is strongly consistent on AWS and on the servers
// above, which is what the engine's write-then-check locks rely on; they
// never put the same name twice, so they need no conditional PUT.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"net/http"
	"path"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// Config says where the repository is and how to reach it.
type Config struct {
	Bucket string
	Prefix string // "" or a path without leading or trailing slash
	// Endpoint is an S3-compatible server's URL ("http://127.0.0.1:9000");
	// empty means AWS.
	Endpoint  string
	Region    string // default us-east-1
	PathStyle bool   // bucket in the path, as most S3-compatible servers want
	// AccessKeyID and SecretAccessKey, when set, are used as they are;
	// otherwise the SDK's default chain (environment, shared profile
	// Profile, instance role) is.
	AccessKeyID     string
	SecretAccessKey string
	Profile         string
	// PartSize is the multipart upload part size; default 20 MiB, so that
	// a pack (16 MiB, plus its last blob and footer) is one PUT. Objects
	// smaller than one part are one PUT.
	PartSize int64
	// HTTPClient replaces the SDK's (tests inject faults with it).
	HTTPClient *http.Client
}

// ParseURL reads s3://bucket[/prefix].
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q: not an s3:// URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q: no bucket", u)
	}
	if strings.Contains(prefix, "//") || path.Clean("/"+prefix) != "/"+prefix && prefix != "" {
		return "", "", fmt.Errorf("%q: the prefix must be a clean path", u)
	}
	return bucket, prefix, nil
}

// Store is a storage.Store in an S3 bucket.
type Store struct {
	c        *awss3.Client
	bucket   string
	prefix   string // "" or "p/"
	partSize int64
	location string
	closed   atomic.Bool
	bufs     sync.Pool
}

var _ storage.Store = (*Store)(nil)

// New connects to the bucket and checks that it exists.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket")
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}
	if cfg.Profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, awsconfig.WithHTTPClient(cfg.HTTPClient))
	}
	ac, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	c := awss3.NewFromConfig(ac, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Checksums on every request cost CPU and some S3-compatible
		// servers reject the newer trailers; our blobs carry their own MACs.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		// Over plain HTTP the signer would hash every uploaded byte with
		// SHA-256 for the signature; our blobs are authenticated by their
		// AEAD already, so sign the headers only (UNSIGNED-PAYLOAD).
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
	s := &Store{c: c, bucket: cfg.Bucket, partSize: cfg.PartSize}
	if s.partSize <= 0 {
		// One PUT per pack: while a part uploads, the pack being filled
		// cannot take more blobs, so two parts a pack held the sealers up
		// twice (2 GiB into versitygw on loopback: 14.5 s with 8 MiB
		// parts, 11.2 s with 20 MiB).
		s.partSize = 20 << 20
	}
	if cfg.Prefix != "" {
		s.prefix = strings.Trim(cfg.Prefix, "/") + "/"
	}
	s.location = "s3://" + cfg.Bucket + "/" + strings.TrimSuffix(s.prefix, "/")
	if cfg.Endpoint != "" {
		s.location += " at " + cfg.Endpoint
	}
	s.bufs.New = func() any { b := make([]byte, s.partSize); return &b }
	if _, err := c.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		return nil, fmt.Errorf("s3: bucket %s: %w", cfg.Bucket, err)
	}
	return s, nil
}

// key is where an object lives.
func (s *Store) key(kind storage.Kind, name string) string {
	if kind == storage.KindPack && len(name) >= 2 && isHex(name[0]) && isHex(name[1]) {
		return s.prefix + string(kind) + "/" + name[:2] + "/" + name
	}
	return s.prefix + string(kind) + "/" + name
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }

func (s *Store) check(ctx context.Context, name string) error {
	if s.closed.Load() {
		return errors.New("s3: store is closed")
	}
	if !storage.ValidName(name) {
		return fmt.Errorf("%w: %q", storage.ErrInvalidName, name)
	}
	return ctx.Err()
}

func notFound(err error) bool {
	var nk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nk) || errors.As(err, &nf) {
		return true
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "NoSuchKey" || ae.ErrorCode() == "NotFound")
}

func (s *Store) wrap(op string, kind storage.Kind, name string, err error) error {
	if notFound(err) {
		return fmt.Errorf("s3: %s %s/%s: %w", op, kind, name, storage.ErrNotExist)
	}
	return fmt.Errorf("s3: %s %s/%s: %w", op, kind, name, err)
}

// Put uploads r: one PUT when it fits in a part, else a multipart upload
// that is completed only once every part is stored, and aborted on any
// error, so that no partial object ever exists. Memory is one part.
func (s *Store) Put(ctx context.Context, kind storage.Kind, name string, r io.Reader) error {
	if err := s.check(ctx, name); err != nil {
		return err
	}
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("s3: put %s/%s: %w", kind, name, err)
	}
	key := s.key(kind, name)
	if n < len(buf) {
		_, err := s.c.PutObject(ctx, &awss3.PutObjectInput{Bucket: &s.bucket, Key: &key,
			Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return s.wrap("put", kind, name, err)
		}
		return nil
	}
	return s.multipart(ctx, kind, name, key, buf, r)
}

func (s *Store) multipart(ctx context.Context, kind storage.Kind, name, key string, first []byte, r io.Reader) (err error) {
	up, err := s.c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return s.wrap("put", kind, name, err)
	}
	defer func() {
		if err != nil {
			// Detached: a cancelled ingest must still not leave parts behind.
			s.c.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: up.UploadId})
		}
	}()
	var parts []types.CompletedPart
	buf, n := first, len(first)
	for num := int32(1); n > 0; num++ {
		out, err := s.c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: &s.bucket, Key: &key, UploadId: up.UploadId,
			PartNumber: aws.Int32(num), Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n))})
		if err != nil {
			return s.wrap("put", kind, name, err)
		}
		parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
		if n < len(buf) {
			break
		}
		n, err = io.ReadFull(r, buf)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return fmt.Errorf("s3: put %s/%s: %w", kind, name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err = s.c.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: &s.bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return s.wrap("put", kind, name, err)
	}
	return nil
}

// Get is one ranged GET.
func (s *Store) Get(ctx context.Context, kind storage.Kind, name string, off, length int64) (io.ReadCloser, error) {
	if err := s.check(ctx, name); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("s3: get %s/%s: negative offset", kind, name)
	}
	if length == 0 {
		if _, err := s.Stat(ctx, kind, name); err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(nil)), nil
	}
	key := s.key(kind, name)
	in := &awss3.GetObjectInput{Bucket: &s.bucket, Key: &key}
	ranged := off > 0 || length > 0
	if ranged {
		rng := fmt.Sprintf("bytes=%d-", off)
		if length > 0 && off <= math.MaxInt64-length {
			rng += fmt.Sprint(off + length - 1)
		}
		in.Range = &rng
	}
	out, err := s.c.GetObject(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidRange" {
			// Past the end (or an empty object): what exists is nothing,
			// once we know the object is there.
			if _, err := s.Stat(ctx, kind, name); err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(nil)), nil
		}
		return nil, s.wrap("get", kind, name, err)
	}
	if ranged && out.ContentRange == nil {
		// Some servers answer an unsatisfiable range with the whole
		// object (RFC 9110 allows ignoring Range): cut it ourselves.
		return rangeOf(out.Body, off, length), nil
	}
	return out.Body, nil
}

// rangeOf reads [off, off+length) of a whole-object body.
func rangeOf(body io.ReadCloser, off, length int64) io.ReadCloser {
	if _, err := io.CopyN(io.Discard, body, off); err != nil {
		body.Close()
		if errors.Is(err, io.EOF) {
			return io.NopCloser(bytes.NewReader(nil))
		}
		return io.NopCloser(errReader{err})
	}
	if length < 0 {
		return body
	}
	return struct {
		io.Reader
		io.Closer
	}{io.LimitReader(body, length), body}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// Stat is a HEAD.
func (s *Store) Stat(ctx context.Context, kind storage.Kind, name string) (storage.Info, error) {
	if err := s.check(ctx, name); err != nil {
		return storage.Info{}, err
	}
	key := s.key(kind, name)
	out, err := s.c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return storage.Info{}, s.wrap("stat", kind, name, err)
	}
	return storage.Info{Name: name, Size: aws.ToInt64(out.ContentLength)}, nil
}

// List pages through the kind's prefix.
func (s *Store) List(ctx context.Context, kind storage.Kind) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if s.closed.Load() {
			yield("", errors.New("s3: store is closed"))
			return
		}
		prefix := s.prefix + string(kind) + "/"
		p := awss3.NewListObjectsV2Paginator(s.c, &awss3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				yield("", fmt.Errorf("s3: list %s: %w", kind, err))
				return
			}
			for _, o := range page.Contents {
				name := path.Base(aws.ToString(o.Key))
				if !storage.ValidName(name) || aws.ToString(o.Key) != s.key(kind, name) {
					continue // not ours (a stray object under the prefix)
				}
				if !yield(name, nil) {
					return
				}
			}
		}
	}
}

// Delete removes an object; S3 does not say whether it existed, so a HEAD
// first gives the missing-object error the engine expects.
func (s *Store) Delete(ctx context.Context, kind storage.Kind, name string) error {
	if _, err := s.Stat(ctx, kind, name); err != nil {
		return err
	}
	key := s.key(kind, name)
	if _, err := s.c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: &s.bucket, Key: &key}); err != nil {
		return s.wrap("delete", kind, name, err)
	}
	return nil
}

// Location is s3://bucket/prefix (and the endpoint), without credentials.
func (s *Store) Location() string { return s.location }

// Close marks the store unusable.
func (s *Store) Close() error {
	s.closed.Store(true)
	return nil
}
