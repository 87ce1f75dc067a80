package gateway

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/importers"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
	ftpimporter "github.com/plakar-gw/plakar-gw/importers/ftp"
	s3importer "github.com/plakar-gw/plakar-gw/importers/s3"
)

// ImporterFactory builds an importer reading location (a path for fs, a
// URL for network sources) with the job's options (importer-specific keys:
// credentials files, TLS, concurrency...). An unknown option is an error.
type ImporterFactory func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error)

// importerFactories is the explicit registry of importers by type.
var importerFactories = map[string]ImporterFactory{
	fsimporter.Type: func(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
		if err := noOptions(fsimporter.Type, opts); err != nil {
			return nil, err
		}
		return fsimporter.New(ctx, fsimporter.Config{Root: location})
	},
	ftpimporter.Type: newFTPImporter,
	s3importer.Type:  newS3Importer,
}

// importerSchemes maps a URL scheme to the importer that reads it; a
// location without a known scheme is a local path (fs).
var importerSchemes = map[string]string{
	"ftp":  ftpimporter.Type,
	"ftps": ftpimporter.Type,
	"s3":   s3importer.Type,
}

func newFTPImporter(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
	cfg := ftpimporter.Config{URL: location}
	o := optionReader{typ: ftpimporter.Type, opts: opts}
	cfg.PasswordFile = o.str("password_file")
	cfg.TLS = o.bool("tls")
	cfg.CAFile = o.str("ca_file")
	cfg.InsecureSkipVerify = o.bool("insecure_skip_verify")
	cfg.Concurrency = o.int("concurrency")
	cfg.Retries = o.int("retries")
	cfg.Timeout = o.duration("timeout")
	cfg.NoMDTM = !o.boolDefault("mdtm", true)
	if err := o.done(); err != nil {
		return nil, err
	}
	return ftpimporter.New(ctx, cfg)
}

func newS3Importer(ctx context.Context, location string, opts map[string]string) (importers.Importer, error) {
	cfg := s3importer.Config{URL: location}
	o := optionReader{typ: s3importer.Type, opts: opts}
	cfg.Endpoint = o.str("endpoint")
	cfg.PathStyle = o.bool("path_style")
	cfg.Region = o.str("region")
	cfg.Profile = o.str("profile")
	cfg.Anonymous = o.bool("anonymous")
	cfg.AccessKeyID = o.str("access_key_id")
	cfg.SecretAccessKeyFile = o.str("secret_access_key_file")
	cfg.Concurrency = o.int("concurrency")
	cfg.Retries = o.int("retries")
	if err := o.done(); err != nil {
		return nil, err
	}
	return s3importer.New(ctx, cfg)
}

// optionReader takes typed values out of an importer's options; done
// reports the first bad value, or an option that nothing took.
type optionReader struct {
	typ  string
	opts map[string]string
	used []string
	err  error
}

func (o *optionReader) str(key string) string {
	o.used = append(o.used, key)
	return o.opts[key]
}

func (o *optionReader) bool(key string) bool { return o.boolDefault(key, false) }

func (o *optionReader) boolDefault(key string, def bool) bool {
	v, ok := o.opts[key]
	o.used = append(o.used, key)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil && o.err == nil {
		o.err = fmt.Errorf("importer %s: option %s=%q: want true or false", o.typ, key, v)
	}
	return b
}

func (o *optionReader) int(key string) int {
	v, ok := o.opts[key]
	o.used = append(o.used, key)
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if (err != nil || n <= 0) && o.err == nil {
		o.err = fmt.Errorf("importer %s: option %s=%q: want a positive integer", o.typ, key, v)
	}
	return n
}

func (o *optionReader) duration(key string) time.Duration {
	v, ok := o.opts[key]
	o.used = append(o.used, key)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(v)
	if (err != nil || d <= 0) && o.err == nil {
		o.err = fmt.Errorf("importer %s: option %s=%q: want a positive duration such as 30s", o.typ, key, v)
	}
	return d
}

func (o *optionReader) done() error {
	if o.err != nil {
		return o.err
	}
	var unknown []string
	for k := range o.opts {
		if !slices.Contains(o.used, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		known := slices.Clone(o.used)
		slices.Sort(known)
		return fmt.Errorf("importer %s takes no option %q (known: %s)", o.typ, unknown[0], strings.Join(known, ", "))
	}
	return nil
}

func noOptions(typ string, opts map[string]string) error {
	for k := range opts {
		return fmt.Errorf("importer %s takes no option %q", typ, k)
	}
	return nil
}

// ImporterTypes lists the registered importer types, sorted.
func ImporterTypes() []string {
	var out []string
	for t := range importerFactories {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// ImporterFor says which importer reads location: the one registered for
// its URL scheme, else fs.
func ImporterFor(location string) string {
	if scheme, _, ok := strings.Cut(location, "://"); ok {
		if t, ok := importerSchemes[strings.ToLower(scheme)]; ok {
			return t
		}
	}
	return fsimporter.Type
}

// NewImporter returns an importer of type typ reading location; typ ""
// picks it from the location (ImporterFor).
func NewImporter(ctx context.Context, typ, location string, opts map[string]string) (importers.Importer, error) {
	if typ == "" {
		typ = ImporterFor(location)
	}
	f, ok := importerFactories[typ]
	if !ok {
		return nil, fmt.Errorf("unknown importer %q (known: %v)", typ, ImporterTypes())
	}
	return f(ctx, location, opts)
}

// Redact hides the password of a URL location (ftp://user:secret@host)
// for messages and logs; other locations are returned as they are.
func Redact(location string) string {
	if !strings.Contains(location, "://") {
		return location
	}
	u, err := url.Parse(location)
	if err != nil {
		// Unparsable: keep the scheme only rather than risk a secret.
		scheme, _, _ := strings.Cut(location, "://")
		return scheme + "://(unparsable URL)"
	}
	return u.Redacted()
}
