package mount

import (
	"context"
	"errors"
	"log/slog"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options configures a mount.
type Options struct {
	// Logger receives errors; nil logs nothing.
	Logger *slog.Logger
}

// Serve mounts cat read-only at dir and serves it until ctx is done, then
// unmounts.
func Serve(ctx context.Context, dir string, cat vfs.Catalog, o Options) error {
	return errors.New("mount: not implemented yet")
}
