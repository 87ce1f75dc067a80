package webui

import (
	"log/slog"
	"net/http"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options configures the handler.
type Options struct {
	// Users maps a user name to the bcrypt hash of its password.
	Users map[string][]byte
	// Anonymous lets visitors browse without logging in.
	Anonymous bool
	// CatalogFor returns what a logged-in user may read; nil means the
	// whole catalog for everyone.
	CatalogFor func(user string) vfs.Catalog
	// Secure marks the session cookie Secure (the listener speaks TLS).
	Secure bool
	// Logger receives errors; nil logs nothing.
	Logger *slog.Logger
}

// New returns the web UI over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "the web UI is not built yet", http.StatusNotImplemented)
	})
}
