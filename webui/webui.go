package webui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

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
	// SessionTTL is how long a login lasts without use; default 12 hours.
	SessionTTL time.Duration
	// PageSize is how many entries a directory page shows; default 500.
	PageSize int
	// SeenUser, when set, is told the logged-in user of each request (the
	// session cookie is opaque outside), for access logs.
	SeenUser func(r *http.Request, user string)
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

type server struct {
	cat      vfs.Catalog
	o        Options
	log      *slog.Logger
	auth     *authenticator
	sessions *sessions
	pages    map[string]*template.Template
}

// New returns the web UI over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.PageSize <= 0 {
		o.PageSize = 500
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &server{
		cat:      cat,
		o:        o,
		log:      log,
		auth:     newAuthenticator(o.Users),
		sessions: newSessions(o.SessionTTL),
		pages:    parsePages(),
	}
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The embedded FS refuses names that are not valid paths (bad
		// UTF-8) with an error FileServer turns into a 500: they are
		// simply not there.
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if !utf8.ValidString(name) || (name != "" && !fs.ValidPath(name)) {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", s.snapshotsPage)
	mux.HandleFunc("GET /s/{snap}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, snapURL("s", r.PathValue("snap"), "."), http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /s/{snap}/{path...}", s.browse)
	mux.HandleFunc("GET /raw/{snap}/{path...}", s.raw)
	mux.HandleFunc("GET /archive/{snap}/{path...}", s.archiveDir)
	mux.HandleFunc("GET /select/{snap}/{path...}", s.archiveSelection)
	mux.HandleFunc("POST /select/{snap}/{path...}", s.archiveSelection)
	mux.HandleFunc("GET /job/{job}", s.jobPage)
	mux.HandleFunc("GET /diff", s.diffPage)
	return s.guard(mux)
}

// status maps an error of the read interface to an HTTP status, once.
func status(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, fs.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	default: // vfs.ErrCorrupt and storage failures
		return http.StatusInternalServerError
	}
}

// fail answers an error with a page; damaged data is logged, since only
// an operator can act on it.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	if code >= 500 {
		s.log.Error("request failed", "path", r.URL.Path, "err", err)
	}
	msg := http.StatusText(code)
	switch {
	case errors.Is(err, vfs.ErrCorrupt):
		msg = "the repository data for this item failed its integrity check"
	case code == http.StatusBadRequest:
		msg = err.Error()
	}
	s.errorPage(w, r, code, msg)
}

func (s *server) errorPage(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.render(w, r, code, "error", map[string]any{"Code": code, "Status": http.StatusText(code), "Message": msg})
}
