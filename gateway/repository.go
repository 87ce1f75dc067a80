package gateway

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	s3store "github.com/plakar-gw/plakar-gw/engine/storage/s3"
)

// openStore opens the repository's store. Unless create is set, a missing
// folder is reported as "no repository" instead of being created.
func openStore(ctx context.Context, c *Config, create bool) (storage.Store, error) {
	path := c.Repository.Path
	if strings.HasPrefix(path, "s3://") {
		return openS3(ctx, c)
	}
	if !create {
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", path, engine.ErrNotRepository)
		}
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("%s: not a directory: %w", path, engine.ErrNotRepository)
		}
		// The fs store creates its layout in any folder it opens; check for
		// its config folder first so that a mistyped --repo pointing at an
		// ordinary folder is reported, not filled with empty folders.
		if _, err := os.Stat(filepath.Join(path, string(storage.KindConfig))); err != nil {
			return nil, fmt.Errorf("%s: %w", path, engine.ErrNotRepository)
		}
	}
	return fsstore.New(ctx, fsstore.Config{Path: path})
}

// openS3 opens a repository on object storage. The secret comes from
// repository.s3.secret_access_key_file or $PLAKAR_GW_REPO_S3_SECRET_ACCESS_KEY.
func openS3(ctx context.Context, c *Config) (storage.Store, error) {
	bucket, prefix, err := s3store.ParseURL(c.Repository.Path)
	if err != nil {
		return nil, fmt.Errorf("repository.path: %w", err)
	}
	sc := c.Repository.S3
	cfg := s3store.Config{Bucket: bucket, Prefix: prefix, Endpoint: sc.Endpoint, Region: sc.Region,
		PathStyle: sc.PathStyle, AccessKeyID: sc.AccessKeyID, Profile: sc.Profile}
	if sc.AccessKeyID != "" {
		if sc.SecretAccessKeyFile != "" {
			if cfg.SecretAccessKey, err = ReadSecretFile(sc.SecretAccessKeyFile); err != nil {
				return nil, fmt.Errorf("repository.s3.secret_access_key_file: %w", err)
			}
		} else if cfg.SecretAccessKey = os.Getenv(EnvPrefix + "REPO_S3_SECRET_ACCESS_KEY"); cfg.SecretAccessKey == "" {
			return nil, errors.New("repository.s3.access_key_id is set: give its secret in repository.s3.secret_access_key_file or " + EnvPrefix + "REPO_S3_SECRET_ACCESS_KEY")
		}
	}
	return s3store.New(ctx, cfg)
}

// InitRepository creates a repository at the configured path, asking for
// the passphrase twice when it has to prompt.
func InitRepository(ctx context.Context, c *Config, o engine.InitOptions) error {
	pass, err := c.Passphrase(true)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, c, true)
	if err != nil {
		return err
	}
	defer st.Close()
	return engine.InitWith(ctx, st, pass, o)
}

// OpenRepository opens the configured repository; the caller closes it.
func OpenRepository(ctx context.Context, c *Config) (*engine.Repository, error) {
	st, err := openStore(ctx, c, false)
	if err != nil {
		return nil, err
	}
	pass, err := c.Passphrase(false)
	if err != nil {
		st.Close()
		return nil, err
	}
	o := engine.Options{Passphrase: pass, CacheDir: c.Repository.CacheDir}
	if strings.HasPrefix(c.Repository.Path, "s3://") {
		// Each chunk is a GET with a round trip: keep several in flight,
		// and the hot ones on local disk.
		o.ReadAhead = 8
		o.DiskChunkCache = c.Repository.S3.ChunkCacheMB << 20
	}
	r, err := engine.Open(ctx, st, o)
	// Stretching the passphrase (argon2id) used 64 MiB that is garbage
	// now: hand it back to the system before the real work, so that it
	// does not stay in the resident set of a long ingest or a server.
	debug.FreeOSMemory()
	if err != nil {
		st.Close()
		return nil, err
	}
	return r, nil
}

// OpenForReading opens the repository for the frontends: the signing
// policy of the config (trusted keys, require_signature) decides which
// snapshots they see. The caller closes it.
func OpenForReading(ctx context.Context, c *Config) (*engine.Repository, error) {
	trusted, err := c.TrustedKeys()
	if err != nil {
		return nil, err
	}
	repo, err := OpenRepository(ctx, c)
	if err != nil {
		return nil, err
	}
	repo.SetPolicy(engine.Policy{Trusted: trusted, RequireSignature: c.Signing.RequireSignature})
	return repo, nil
}
