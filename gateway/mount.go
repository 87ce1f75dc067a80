package gateway

import (
	"context"
	"log/slog"

	"github.com/plakar-gw/plakar-gw/mount"
)

// MountOptions are the mount command's settings.
type MountOptions struct {
	AllowOther bool
	Debug      bool
	// Ready is called once the mount is live.
	Ready func(dir string)
}

// Mount opens the repository and mounts it at dir until ctx is done.
func Mount(ctx context.Context, c *Config, dir string, o MountOptions, log *slog.Logger) error {
	if err := mount.Check(dir); err != nil {
		return err // before the passphrase is stretched and the index loaded
	}
	repo, err := OpenForReading(ctx, c)
	if err != nil {
		return err
	}
	defer repo.Close()
	mo := mount.Options{Logger: log, AllowOther: o.AllowOther, Debug: o.Debug}
	if o.Ready != nil {
		mo.Ready = func() { o.Ready(dir) }
	}
	return mount.Serve(ctx, dir, repo, mo)
}
