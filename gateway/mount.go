package gateway

import (
	"context"
	"log/slog"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/mount"
)

// Mount opens the repository and mounts it at dir until ctx is done.
func Mount(ctx context.Context, c *Config, dir string, log *slog.Logger) error {
	trusted, err := c.TrustedKeys()
	if err != nil {
		return err
	}
	repo, err := OpenRepository(ctx, c)
	if err != nil {
		return err
	}
	defer repo.Close()
	repo.SetPolicy(engine.Policy{Trusted: trusted, RequireSignature: c.Signing.RequireSignature})
	return mount.Serve(ctx, dir, repo, mount.Options{Logger: log})
}
