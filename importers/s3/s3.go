// Package s3 is the importer for the objects of an S3 bucket, on AWS or an
// S3-compatible server (MinIO, Ceph RGW, SeaweedFS, versitygw), with
// aws-sdk-go-v2. It owns the client settings (endpoint, path-style
// addressing, region, credentials), turning a ListObjectsV2 listing into a
// tree of importers.Records, and streaming objects with GetObject.
//
// Keys become paths below the prefix: "a/b/c" is the file /a/b/c inside
// the directories /a and /a/b; a key ending in "/" is a directory (empty
// unless other keys are below it). Size and LastModified are kept; the
// ETag as the extended attribute "user.s3.etag". A key that is not a valid
// path (a "." or ".." segment, an empty segment as in "a//b", a NUL) is
// recorded as an error quoting the raw key and is never read.
//
// Scan order: the listing's (S3 returns keys in byte order, so a
// directory's keys are contiguous and follow it): depth-first pre-order,
// siblings in byte order of their full keys.
package s3

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Type is the value of Importer.Type.
const Type = "s3"

// Config selects the bucket, the prefix and how to reach them.
type Config struct {
	// URL is s3://bucket[/prefix]. The prefix names a "directory": keys
	// below prefix + "/" are imported (a trailing "/" is optional).
	URL string
	// Endpoint overrides the service URL (http://127.0.0.1:9000 for a
	// local MinIO); PathStyle puts the bucket in the path rather than in
	// the host name, as most S3-compatible servers need.
	Endpoint  string
	PathStyle bool
	// Region defaults to the environment's or the profile's, else us-east-1.
	Region string
	// Credentials, in order: AccessKeyID with SecretAccessKey (or a file
	// holding it), Anonymous (unsigned requests), else the SDK's chain:
	// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the shared files with
	// Profile (default AWS_PROFILE or "default"), instance roles.
	AccessKeyID         string
	SecretAccessKey     string
	SecretAccessKeyFile string
	Profile             string
	Anonymous           bool
	// Concurrency bounds the objects read at once (default 8).
	Concurrency int
	// Retries is how many times a request is retried on throttling (503
	// SlowDown), a 5xx or a dropped connection, with backoff (default 4).
	Retries int
}

// Importer reads a bucket's objects. It is safe for concurrent use.
type Importer struct {
	client *s3.Client
	bucket string
	prefix string // "" or ends with "/"
	origin string
	sem    chan struct{}
	closed atomic.Bool
}

var _ importers.Importer = (*Importer)(nil)

// New parses cfg and builds the client; it makes no request, so a wrong
// bucket or credentials show at the first listing.
func New(ctx context.Context, cfg Config) (*Importer, error) {
	bucket, prefix, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 8
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 4
	}
	awsCfg, err := loadConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
		// Servers other than AWS often send no checksum; the SDK would
		// log that on every GetObject.
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	origin := "s3://" + bucket + "/" + prefix
	if cfg.Endpoint != "" {
		origin += " at " + cfg.Endpoint
	}
	return &Importer{client: client, bucket: bucket, prefix: prefix, origin: origin,
		sem: make(chan struct{}, cfg.Concurrency)}, nil
}

// parseURL splits s3://bucket/prefix; the prefix comes back "" or ending
// in "/".
func parseURL(raw string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(raw, "s3://")
	if !ok {
		if u, perr := url.Parse(raw); perr != nil || !strings.EqualFold(u.Scheme, "s3") {
			return "", "", errors.New("s3 importer: want s3://bucket[/prefix]")
		}
		rest = raw[len("s3://"):]
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" || strings.ContainsAny(bucket, "@:?#") {
		return "", "", fmt.Errorf("s3 importer: bad bucket in %q (want s3://bucket[/prefix]; credentials go in options or the environment)", raw)
	}
	prefix = strings.TrimLeft(prefix, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if _, err := splitKey(strings.TrimSuffix(prefix, "/")); prefix != "" && err != nil {
		return "", "", fmt.Errorf("s3 importer: prefix %q: %w", prefix, err)
	}
	return bucket, prefix, nil
}

func loadConfig(ctx context.Context, cfg Config) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.Retries + 1
				// The default token bucket stops retrying after a burst
				// of failures; a backup job would rather wait.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	secret := cfg.SecretAccessKey
	if cfg.SecretAccessKeyFile != "" {
		b, err := os.ReadFile(cfg.SecretAccessKeyFile)
		if err != nil {
			return aws.Config{}, fmt.Errorf("s3 importer: secret key file: %w", err)
		}
		secret, _, _ = strings.Cut(strings.TrimRight(string(b), "\r\n"), "\n")
	}
	switch {
	case cfg.Anonymous && cfg.AccessKeyID != "":
		return aws.Config{}, errors.New("s3 importer: anonymous and access_key_id exclude each other")
	case cfg.Anonymous:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	case cfg.AccessKeyID != "" && secret == "":
		return aws.Config{}, errors.New("s3 importer: access_key_id needs secret_access_key_file")
	case cfg.AccessKeyID != "":
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, secret, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("s3 importer: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	return awsCfg, nil
}

// Type returns "s3".
func (imp *Importer) Type() string { return Type }

// Origin returns "s3://bucket/prefix/", with " at ENDPOINT" for a server
// other than AWS. It holds no credentials.
func (imp *Importer) Origin() string { return imp.origin }

// Close marks the importer closed; Scan and Open fail afterwards.
func (imp *Importer) Close() error {
	imp.closed.Store(true)
	return nil
}

// key maps a source path ("/a/b") to the object key.
func (imp *Importer) key(p string) string { return imp.prefix + p[1:] }
