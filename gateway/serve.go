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
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plakar-gw/plakar-gw/dav"
	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/s3api"
)

// ServeOptions are the listeners and credentials of "plakar-gw serve".
// The full configuration (users, jobs, metrics) comes with the gateway
// config; today one key pair serves both frontends.
type ServeOptions struct {
	S3Addr     string // "" disables the S3 API
	WebDAVAddr string // "" disables WebDAV
	TLSCert    string // both set: serve HTTPS
	TLSKey     string
	Region     string // "" accepts any region in signatures

	// AccessKeyID and SecretAccessKey sign S3 requests; over WebDAV they
	// are a Basic user name and password.
	AccessKeyID     string
	SecretAccessKey string
	// Users are extra WebDAV users: NAME:BCRYPT-HASH.
	Users     []string
	Anonymous bool

	// Ready, when set, is called with the bound addresses once every
	// listener accepts connections.
	Ready func(s3, webdav string)
}

// Serve opens the repository and serves it until ctx is done, then shuts
// the listeners down, letting requests in flight finish for a few seconds.
func Serve(ctx context.Context, c *Config, o ServeOptions, log *slog.Logger) error {
	if o.S3Addr == "" && o.WebDAVAddr == "" {
		return errors.New("nothing to serve: give --s3 ADDR and/or --webdav ADDR")
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("TLS needs both --tls-cert and --tls-key")
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return errors.New("an access key id needs its secret, and the other way round")
	}
	users, err := webdavUsers(o)
	if err != nil {
		return err
	}
	if o.AccessKeyID == "" && len(users) == 0 && !o.Anonymous {
		return errors.New("no credentials: set PLAKAR_GW_ACCESS_KEY_ID and PLAKAR_GW_SECRET_ACCESS_KEY (or --anonymous to serve without)")
	}
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

	type listener struct {
		name string
		ln   net.Listener
		srv  *http.Server
	}
	var lns []listener
	defer func() {
		for _, l := range lns {
			l.ln.Close()
		}
	}()
	add := func(name, addr string, h http.Handler) error {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s listener: %w", name, err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		lns = append(lns, listener{name, ln, srv})
		return nil
	}
	if o.S3Addr != "" {
		creds := map[string]string{}
		if o.AccessKeyID != "" {
			creds[o.AccessKeyID] = o.SecretAccessKey
		}
		h := s3api.New(repo, s3api.Options{Credentials: creds, Anonymous: o.Anonymous, Region: o.Region, Logger: log.With("frontend", "s3")})
		if err := add("s3", o.S3Addr, h); err != nil {
			return err
		}
	}
	if o.WebDAVAddr != "" {
		h := dav.New(repo, dav.Options{Users: users, Anonymous: o.Anonymous, Logger: log.With("frontend", "webdav")})
		if err := add("webdav", o.WebDAVAddr, h); err != nil {
			return err
		}
	}

	errc := make(chan error, len(lns))
	addrs := map[string]string{}
	for _, l := range lns {
		addrs[l.name] = l.ln.Addr().String()
		log.Info("listening", "frontend", l.name, "addr", addrs[l.name], "tls", o.TLSCert != "")
		go func() {
			var err error
			if o.TLSCert != "" {
				err = l.srv.ServeTLS(l.ln, o.TLSCert, o.TLSKey)
			} else {
				err = l.srv.Serve(l.ln)
			}
			if errors.Is(err, http.ErrServerClosed) {
				err = nil
			}
			errc <- err
		}()
	}
	if o.Ready != nil {
		o.Ready(addrs["s3"], addrs["webdav"])
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, l := range lns {
		l.srv.Shutdown(shutdown)
	}
	return err
}

// webdavUsers builds the WebDAV user table: the access key pair (hashed
// here, so that only hashes are kept in memory) and the NAME:HASH users.
func webdavUsers(o ServeOptions) (map[string][]byte, error) {
	users := map[string][]byte{}
	if o.AccessKeyID != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(o.SecretAccessKey), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		users[o.AccessKeyID] = h
	}
	for _, u := range o.Users {
		name, hash, ok := strings.Cut(u, ":")
		if !ok || name == "" {
			return nil, fmt.Errorf("user %q: want NAME:BCRYPT-HASH", u)
		}
		if _, err := bcrypt.Cost([]byte(hash)); err != nil {
			return nil, fmt.Errorf("user %s: not a bcrypt hash: %w", name, err)
		}
		users[name] = []byte(hash)
	}
	return users, nil
}

// PrintURLs writes what a user needs to reach the listeners.
func PrintURLs(w io.Writer, o ServeOptions, s3, webdav string) {
	scheme := "http"
	if o.TLSCert != "" {
		scheme = "https"
	}
	if s3 != "" {
		fmt.Fprintf(w, "S3 API:  %s://%s\n", scheme, s3)
		fmt.Fprintf(w, "  try:   AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=... aws --endpoint-url %s://%s s3 ls\n", o.AccessKeyID, scheme, s3)
	}
	if webdav != "" {
		fmt.Fprintf(w, "WebDAV:  %s://%s/  (user %s, password: the secret access key)\n", scheme, webdav, o.AccessKeyID)
	}
}
