// Package dav owns the read-only WebDAV frontend: an http.Handler that shows
// every snapshot of a vfs.Catalog as a top-level collection (snap-<12 hex>
// and <job>-latest) with the snapshot's tree below it. It speaks WebDAV
// class 1 only: OPTIONS, PROPFIND depth 0 and 1 (streamed), GET and HEAD
// (served by golang.org/x/net/webdav over a read-only webdav.FileSystem);
// every method that would write answers 403 and changes nothing. It checks
// HTTP Basic credentials against bcrypt hashes. It imports nothing of the
// project but engine/vfs.
package dav

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/net/webdav"

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
	// ListTTL is how long the list of snapshots is kept before it is read
	// again; 0 means 2 s, so a new snapshot shows within a few seconds.
	ListTTL time.Duration
}

// allowed is the Allow header: the methods of a read-only class 1 server.
const allowed = "OPTIONS, GET, HEAD, PROPFIND"

// handler serves the tree.
type handler struct {
	tree *tree
	auth *authenticator
	log  *slog.Logger
	get  *webdav.Handler
}

// New returns the WebDAV tree over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	ttl := o.ListTTL
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	t := newTree(cat, ttl)
	return &handler{
		tree: t,
		auth: newAuthenticator(o.Users, o.Anonymous),
		log:  o.Logger,
		// Locks are refused before they reach it, but webdav.Handler
		// wants a lock system even for GET.
		get: &webdav.Handler{FileSystem: roFS{t}, LockSystem: webdav.NewMemLS()},
	}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rw := &statusWriter{ResponseWriter: w}
	user := ""
	defer func() {
		if h.log == nil {
			return
		}
		// A panic here is http.ErrAbortHandler cutting a reply short:
		// log it as such and let net/http close the connection.
		p := recover()
		status := rw.status
		if p != nil {
			status = -1
		}
		h.log.Info("request", "method", r.Method, "path", r.URL.EscapedPath(), "status", status,
			"bytes", rw.bytes, "duration", time.Since(start).Round(time.Microsecond), "user", user)
		if p != nil {
			panic(p)
		}
	}()
	var ok bool
	if user, ok = h.auth.check(r); !ok {
		rw.Header().Set("WWW-Authenticate", `Basic realm="plakar-gw", charset="UTF-8"`)
		http.Error(rw, "authentication required", http.StatusUnauthorized)
		return
	}
	h.serve(rw, r)
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case "PUT", "DELETE", "MKCOL", "COPY", "MOVE", "PROPPATCH", "LOCK", "UNLOCK", "POST", "PATCH":
		// Refused before the path is even looked at: nothing below this
		// handler can write.
		http.Error(w, "read-only: "+r.Method+" is not allowed", http.StatusForbidden)
		return
	case "OPTIONS", "GET", "HEAD", "PROPFIND":
	default:
		w.Header().Set("Allow", allowed)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.Method == "OPTIONS" { // the same answer on every path
		h.options(w)
		return
	}
	segs, err := parsePath(r.URL)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	res, err := h.tree.resolve(r.Context(), segs)
	if err != nil {
		writeError(w, err)
		return
	}
	switch r.Method {
	case "PROPFIND":
		h.propfind(w, r, res)
	default:
		h.serveFile(w, r, res)
	}
}

func (h *handler) options(w http.ResponseWriter) {
	hd := w.Header()
	// Class 1 only: a tree that cannot change needs no locks, and macOS
	// Finder mounts a class 1 server read-only, which it is.
	hd.Set("DAV", "1")
	hd.Set("Allow", allowed)
	hd.Set("MS-Author-Via", "DAV")
	hd.Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

// writeError answers an error from the read interface with its status.
func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	http.Error(w, http.StatusText(code), code)
}

// statusOf maps the errors of vfs (and this package) to HTTP statuses, once.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errBadPath), errors.Is(err, fs.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, fs.ErrNotExist):
		return http.StatusNotFound
	case errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable // the client is most likely gone
	}
	return http.StatusInternalServerError // vfs.ErrCorrupt among others
}

// statusWriter records what was answered, for the log.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
