package dav

import (
	"log/slog"
	"net/http"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options configures the handler.
type Options struct {
	// Users maps a user name to the bcrypt hash of its password.
	Users map[string][]byte
	// Anonymous lets requests without credentials read.
	Anonymous bool
	// Logger receives one line per request; nil logs nothing.
	Logger *slog.Logger
}

// New returns the WebDAV tree over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not implemented yet", http.StatusNotImplemented)
	})
}
