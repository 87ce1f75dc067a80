package s3api

import (
	"log/slog"
	"net/http"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options configures the handler.
type Options struct {
	// Credentials maps an access key id to its secret access key.
	Credentials map[string]string
	// Anonymous lets unsigned requests read.
	Anonymous bool
	// Region is the region requests must be signed for; empty accepts any.
	Region string
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
}

// New returns the S3 API over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not implemented yet", http.StatusNotImplemented)
	})
}
