package s3api

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

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
	// Domains are the host names under which BUCKET.DOMAIN is
	// virtual-hosted addressing. Empty: a Host whose first labels name an
	// existing bucket is taken as virtual-hosted, any other as path style.
	Domains []string
}

type handler struct {
	opt     Options
	buckets *buckets
	now     func() time.Time
}

// New returns the S3 API over cat.
func New(cat vfs.Catalog, o Options) http.Handler {
	return newHandler(cat, o, time.Now)
}

func newHandler(cat vfs.Catalog, o Options, now func() time.Time) *handler {
	return &handler{opt: o, buckets: &buckets{cat: cat, now: now}, now: now}
}

// ServeHTTP tags the request with ids, logs it, and serves it.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := requestID()
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("x-amz-id-2", hostID())
	w.Header().Set("Server", "plakar-gw")
	lw := &logWriter{ResponseWriter: w}
	var t target
	defer func() {
		p := recover()
		if h.opt.Logger != nil {
			status := lw.status
			if p != nil {
				status = 0 // aborted
			}
			h.opt.Logger.Info("request", "method", r.Method, "bucket", t.bucket, "key", t.key,
				"status", status, "bytes", lw.bytes, "duration", time.Since(start), "id", id)
		}
		if p != nil {
			panic(p) // http.ErrAbortHandler: the client must see a broken transfer
		}
	}()
	t = h.serve(lw, r)
}

// serve routes, authenticates and answers; it returns the target for the
// log line.
func (h *handler) serve(w http.ResponseWriter, r *http.Request) target {
	virtual := hostBucket(r.Host, h.opt.Domains, func(b string) bool { return h.buckets.exists(r.Context(), b) })
	t, err := route(r, virtual)
	if err != nil {
		writeError(w, r, err, t.resource())
		return t
	}
	user, err := h.authenticate(r, t)
	if err != nil {
		writeError(w, r, err, t.resource())
		return t
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		// Every write (PUT, POST, DELETE, multipart, ACL, tagging,
		// policy...) is refused once the caller is known, so that a
		// wrong key still says so.
		writeError(w, r, errReadOnly, t.resource())
		return t
	}
	switch {
	case t.bucket == "":
		h.listBuckets(w, r)
	case t.key == "":
		h.bucketOp(w, r, t)
	default:
		h.objectOp(w, r, t, user == "")
	}
	return t
}

// subresources are query parameters that name an operation; a GET with one
// this package does not implement is NotImplemented, other unknown
// parameters are ignored, as S3 does.
var subresources = map[string]bool{
	"accelerate": true, "acl": true, "analytics": true, "cors": true, "encryption": true,
	"intelligent-tiering": true, "inventory": true, "lifecycle": true, "logging": true,
	"metrics": true, "notification": true, "object-lock": true, "ownershipControls": true,
	"policy": true, "policyStatus": true, "publicAccessBlock": true, "replication": true,
	"requestPayment": true, "tagging": true, "uploads": true, "versions": true, "website": true,
	"delete": true, "restore": true, "select": true, "torrent": true, "uploadId": true,
	"retention": true, "legal-hold": true, "session": true, "metadata-table": true,
}

func unsupported(r *http.Request) bool {
	for k := range r.URL.Query() {
		if subresources[k] {
			return true
		}
	}
	return false
}

func (h *handler) bucketOp(w http.ResponseWriter, r *http.Request, t target) {
	bk, ok, err := h.buckets.lookup(r.Context(), t.bucket)
	switch {
	case err != nil:
		writeError(w, r, fsError(err), t.resource())
		return
	case !ok:
		writeError(w, r, errNoSuchBucket, t.resource())
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("x-amz-bucket-region", h.region())
		w.WriteHeader(http.StatusOK)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Has("location"):
		writeXML(w, locationResult{Region: h.locationConstraint()})
	case q.Has("versioning"):
		writeXML(w, versioningResult{})
	case unsupported(r):
		writeError(w, r, errNotImplemented, t.resource())
	case q.Get("list-type") == "2":
		h.listObjects(w, r, t, bk, true)
	case q.Has("list-type") && q.Get("list-type") != "1":
		writeError(w, r, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid list-type"), t.resource())
	default:
		h.listObjects(w, r, t, bk, false)
	}
}

func (h *handler) region() string {
	if h.opt.Region == "" {
		return "us-east-1"
	}
	return h.opt.Region
}

// locationConstraint is empty for us-east-1, as S3 answers.
func (h *handler) locationConstraint() string {
	if r := h.region(); r != "us-east-1" {
		return r
	}
	return ""
}

func (h *handler) listBuckets(w http.ResponseWriter, r *http.Request) {
	all, err := h.buckets.all(r.Context())
	if err != nil {
		writeError(w, r, fsError(err), "/")
		return
	}
	res := listBucketsResult{Owner: theOwner}
	for _, b := range all {
		res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: isoTime(b.Snap.Time)})
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	writeXML(w, res)
}

func requestID() string {
	var b [8]byte
	rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func hostID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// logWriter records the status and body size for the log line.
type logWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (l *logWriter) WriteHeader(code int) {
	if l.status == 0 {
		l.status = code
	}
	l.ResponseWriter.WriteHeader(code)
}

func (l *logWriter) Write(p []byte) (int, error) {
	if l.status == 0 {
		l.status = http.StatusOK
	}
	n, err := l.ResponseWriter.Write(p)
	l.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (l *logWriter) Unwrap() http.ResponseWriter { return l.ResponseWriter }
