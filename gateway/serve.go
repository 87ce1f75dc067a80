package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/s3api"
	"github.com/plakar-gw/plakar-gw/webui"
)

// ServeOptions are what the serve command adds to the configuration: a
// key pair from flags or the environment (an unrestricted user), extra
// WebDAV users, and a callback once the listeners are up.
type ServeOptions struct {
	// AccessKeyID and SecretAccessKey sign S3 requests; over WebDAV they
	// are a Basic user name and password.
	AccessKeyID     string
	SecretAccessKey string
	// SecretFile is where the secret was read from, if from a file: the
	// printed client command reads it from there instead of showing it.
	SecretFile string
	// Users are extra WebDAV users: NAME:BCRYPT-HASH.
	Users []string

	// Ready, when set, is called with the bound address of every
	// listener ("s3", "webdav", "metrics") once all accept connections.
	Ready func(addrs map[string]string)
}

// RefreshInterval bounds how old the snapshot list the frontends see may
// be: a new or removed snapshot shows within it.
const RefreshInterval = 2 * time.Second

// Serve opens the repository, starts the enabled listeners and the
// scheduled jobs, and runs until ctx is done. Then it stops accepting,
// lets requests in flight finish for up to shutdown_timeout, cancels jobs
// still running after that (an interrupted ingest writes no snapshot),
// and returns nil.
func Serve(ctx context.Context, c *Config, o ServeOptions, log *slog.Logger) error {
	l := c.Listeners
	if !l.S3.Enabled && !l.WebDAV.Enabled && !l.UI.Enabled && !l.Metrics.Enabled && !hasSchedules(c) {
		return errors.New("nothing to serve: give --s3 ADDR and/or --webdav ADDR, or enable listeners in the config")
	}
	auth, err := buildAuth(c, o)
	if err != nil {
		return err
	}
	if (l.S3.Enabled || l.WebDAV.Enabled) && len(auth.s3) == 0 && len(auth.dav) == 0 && !c.Anonymous {
		return errors.New("no credentials: set PLAKAR_GW_ACCESS_KEY_ID and PLAKAR_GW_SECRET_ACCESS_KEY, add users to the config, or set anonymous: true")
	}
	repo, err := OpenForReading(ctx, c)
	if err != nil {
		return err
	}
	defer repo.Close()
	cat := NewCatalog(repo, RefreshInterval)
	metrics := NewMetrics()
	metrics.WatchCache(repo.CacheStats)

	type server struct {
		name string
		ln   net.Listener
		srv  *http.Server
		tls  ListenerConfig
	}
	var servers []server
	defer func() {
		for _, s := range servers {
			s.ln.Close()
		}
	}()
	add := func(name string, lc ListenerConfig, h http.Handler) error {
		ln, err := net.Listen("tcp", lc.Addr)
		if err != nil {
			return fmt.Errorf("listeners.%s.addr: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		servers = append(servers, server{name, ln, srv, lc})
		return nil
	}
	reqLog := log.With("log", "access")
	if l.S3.Enabled {
		h := auth.perUser(s3Claim, auth.s3Keys, func(acc Access, keys []string) http.Handler {
			return s3api.New(cat.Restrict(acc), s3api.Options{Credentials: pick(auth.s3, keys), Anonymous: c.Anonymous, Region: l.S3.Region})
		})
		if err := add("s3", l.S3, instrument("s3", h, metrics, reqLog)); err != nil {
			return err
		}
	}
	if l.WebDAV.Enabled {
		h := auth.perUser(basicClaim, auth.davUsers, func(acc Access, users []string) http.Handler {
			return dav.New(cat.Restrict(acc), dav.Options{Users: pick(auth.dav, users), Anonymous: c.Anonymous})
		})
		if err := add("webdav", l.WebDAV, instrument("webdav", h, metrics, reqLog)); err != nil {
			return err
		}
	}
	if l.UI.Enabled {
		h := webui.New(cat, webui.Options{Users: auth.dav, Anonymous: c.Anonymous, Secure: l.UI.TLSCert != "",
			CatalogFor: func(user string) vfs.Catalog { return cat.Restrict(auth.davUsers[user]) },
			SeenUser:   seenUser,
			Logger:     log.With("frontend", "ui")})
		if err := add("ui", l.UI, instrument("ui", h, metrics, reqLog)); err != nil {
			return err
		}
	}
	if l.Metrics.Enabled {
		mux := http.NewServeMux()
		mux.Handle("/metrics", metrics.Handler())
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
			list, err := cat.Snapshots(r.Context())
			if err != nil {
				http.Error(w, "repository not readable: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
			metrics.snapshots.Set(float64(len(list)))
			fmt.Fprintf(w, "ok: %d snapshots\n", len(list))
		})
		if err := add("metrics", l.Metrics, mux); err != nil {
			return err
		}
	}

	jobs := NewJobs(repo, c, log.With("log", "jobs"))
	jobs.OnDone = func(res JobResult) {
		metrics.JobDone(res)
		cat.Invalidate()
	}
	// Jobs outlive ctx by the shutdown deadline, so a run about to finish
	// still writes its snapshot.
	jobCtx, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer stopJobs()
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	jobs.Start(schedCtx, jobCtx)

	errc := make(chan error, len(servers))
	addrs := map[string]string{}
	for _, s := range servers {
		addrs[s.name] = s.ln.Addr().String()
		log.Info("listening", "frontend", s.name, "addr", addrs[s.name], "tls", s.tls.TLSCert != "")
		go func() {
			var err error
			if s.tls.TLSCert != "" {
				err = s.srv.ServeTLS(s.ln, s.tls.TLSCert, s.tls.TLSKey)
			} else {
				err = s.srv.Serve(s.ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	if o.Ready != nil {
		o.Ready(addrs)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down", "deadline", c.ShutdownTimeout)
	stopSched()
	deadline, cancel := context.WithTimeout(context.Background(), c.ShutdownTimeout)
	defer cancel()
	go func() {
		<-deadline.Done()
		stopJobs()
	}()
	// All listeners close at once; each then waits for its own requests.
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			if e := s.srv.Shutdown(deadline); e != nil {
				log.Warn("requests cut at the shutdown deadline", "frontend", s.name)
				s.srv.Close()
			}
		})
	}
	wg.Wait()
	jobs.Wait()
	return err
}

func hasSchedules(c *Config) bool {
	for _, j := range c.Jobs {
		if j.Schedule != "" {
			return true
		}
	}
	return false
}

// auth is the credential tables of the frontends.
type auth struct {
	s3       map[string]string // access key id -> secret
	dav      map[string][]byte // user -> bcrypt hash
	s3Keys   map[string]Access // access key id -> what it may read
	davUsers map[string]Access // user name -> what it may read
}

// perUser routes each request to a frontend instance that knows only the
// snapshots the claimed identity may read and only that identity's
// credentials: the frontend then verifies the claim, and a request that
// claims one user but proves another fails. Unrestricted identities, and
// requests that claim none or an unknown one, share one instance holding
// every credential (which answers unknown keys and bad secrets as the
// protocol says). Frontends cache listings per instance, so one user's
// view never leaks into another's.
func (a *auth) perUser(claim func(*http.Request) string, ids map[string]Access, mk func(Access, []string) http.Handler) http.Handler {
	var all []string
	for id := range ids {
		all = append(all, id)
	}
	shared := mk(Access{}, all)
	own := map[string]http.Handler{}
	for id, acc := range ids {
		if !acc.All() {
			own[id] = mk(acc, []string{id})
		}
	}
	if len(own) == 0 {
		return shared
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := own[claim(r)]; ok {
			h.ServeHTTP(w, r)
			return
		}
		shared.ServeHTTP(w, r)
	})
}

func pick[V any](m map[string]V, keys []string) map[string]V {
	out := make(map[string]V, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// buildAuth merges the configured users with the flag/environment key
// pair (an unrestricted user) and the --user NAME:HASH WebDAV users.
func buildAuth(c *Config, o ServeOptions) (*auth, error) {
	a := &auth{s3: map[string]string{}, dav: map[string][]byte{}, s3Keys: map[string]Access{}, davUsers: map[string]Access{}}
	for _, u := range c.Users {
		acc := Access{Jobs: u.Jobs, Snapshots: u.Snapshots}
		if u.AccessKeyID != "" {
			secret := u.SecretAccessKey
			if u.SecretAccessKeyFile != "" {
				s, err := ReadSecretFile(u.SecretAccessKeyFile)
				if err != nil {
					return nil, fmt.Errorf("users (%s).secret_access_key_file: %w", u.Name, err)
				}
				secret = s
			}
			a.s3[u.AccessKeyID] = secret
			a.s3Keys[u.AccessKeyID] = acc
		}
		if u.PasswordHash != "" {
			a.dav[u.Name] = []byte(u.PasswordHash)
			a.davUsers[u.Name] = acc
		}
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return nil, errors.New("an access key id needs its secret, and the other way round")
	}
	if o.AccessKeyID != "" {
		if _, dup := a.s3[o.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %s is also a configured user's", o.AccessKeyID)
		}
		a.s3[o.AccessKeyID] = o.SecretAccessKey
		a.s3Keys[o.AccessKeyID] = Access{}
		if _, dup := a.dav[o.AccessKeyID]; dup {
			return nil, fmt.Errorf("access key id %s is also a configured user's name", o.AccessKeyID)
		}
		a.davUsers[o.AccessKeyID] = Access{}
		// Hashed here so that the WebDAV side keeps only hashes in memory.
		h, err := bcrypt.GenerateFromPassword([]byte(o.SecretAccessKey), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		a.dav[o.AccessKeyID] = h
	}
	for _, u := range o.Users {
		name, hash, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("user %q: want NAME:BCRYPT-HASH", u)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("user %s: not a bcrypt hash: %w", name, err)
		}
		if _, dup := a.dav[name]; dup {
			return nil, fmt.Errorf("user %s: defined twice", name)
		}
		a.dav[name] = []byte(hash)
		a.davUsers[name] = Access{}
	}
	return a, nil
}

// PrintURLs writes what a user needs to reach the listeners.
func PrintURLs(w io.Writer, c *Config, o ServeOptions, addrs map[string]string) {
	scheme := func(l ListenerConfig) string {
		if l.TLSCert != "" {
			return "https"
		}
		return "http"
	}
	secret := "$PLAKAR_GW_SECRET_ACCESS_KEY"
	if o.SecretFile != "" {
		secret = "$(cat " + shellQuote(o.SecretFile) + ")"
	}
	if a := addrs["s3"]; a != "" {
		u := scheme(c.Listeners.S3) + "://" + a
		fmt.Fprintf(w, "S3 API:   %s\n", u)
		if o.AccessKeyID != "" {
			fmt.Fprintf(w, "  try:    AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url %s s3 ls\n",
				shellQuote(o.AccessKeyID), secret, u)
		} else if c.Anonymous {
			fmt.Fprintf(w, "  try:    aws --no-sign-request --endpoint-url %s s3 ls\n", u)
		}
	}
	if a := addrs["webdav"]; a != "" {
		fmt.Fprintf(w, "WebDAV:   %s://%s/\n", scheme(c.Listeners.WebDAV), a)
		if o.AccessKeyID != "" {
			fmt.Fprintf(w, "  login:  user %s, password %s\n", o.AccessKeyID, secret)
		}
	}
	if a := addrs["ui"]; a != "" {
		fmt.Fprintf(w, "Web UI:   %s://%s/\n", scheme(c.Listeners.UI), a)
	}
	if a := addrs["metrics"]; a != "" {
		fmt.Fprintf(w, "Metrics:  %s://%s/metrics  (health: /healthz, /readyz)\n", scheme(c.Listeners.Metrics), a)
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
