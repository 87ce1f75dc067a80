// Package ftp is the importer for a tree on an FTP or explicit-FTPS server
// (github.com/jlaffaye/ftp). It owns the connection settings (URL,
// credentials, TLS, timeouts), a pool of logged-in connections shared by
// Scan and Open, turning directory listings (MLSD when the server offers
// it, else LIST in Unix or DOS format) into importers.Records, and
// streaming files with RETR, resuming with REST on a new connection when
// one drops.
//
// Scan order: depth-first pre-order, siblings in byte order of their
// names, like the fs importer. Only the listings of the directories on the
// current branch are held in memory.
//
// What FTP cannot say: owners, hardlinks, xattrs, special files (a FIFO or
// device is skipped by most servers' listings). LIST gives permissions but
// times only to the minute (or the day for old files): when MLSD is
// missing, file times come from MDTM (one round trip per file, exact to
// the second) unless Config.NoMDTM is set.
package ftp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plakar-gw/plakar-gw/importers"
)

// Type is the value of Importer.Type.
const Type = "ftp"

// Config selects the server and the tree to import.
type Config struct {
	// URL is ftp://[user[:password]@]host[:port]/path or ftps://... (explicit
	// TLS, AUTH TLS on the usual port 21). Without a user, "anonymous".
	URL string
	// Password, when set, overrides the URL's. PasswordFile names a file
	// whose first line is the password. The environment variable
	// PLAKAR_GW_FTP_PASSWORD is used when neither these nor the URL give
	// one.
	Password     string
	PasswordFile string
	// TLS forces explicit FTPS on an ftp:// URL. CAFile adds a PEM bundle
	// of trusted roots; InsecureSkipVerify disables certificate checks and
	// must be asked for explicitly.
	TLS                bool
	CAFile             string
	InsecureSkipVerify bool
	// Concurrency is the number of connections that transfer files (and
	// ask MDTM) at once, default 4; the scan lists on one more.
	Concurrency int
	// Timeout bounds the dial and every network read or write, so a
	// server that stops answering fails the operation (default 30 s).
	Timeout time.Duration
	// Retries is how many times an operation is retried on a dropped
	// connection, with exponential backoff from 200 ms (default 3).
	Retries int
	// NoMDTM keeps LIST's coarse times instead of asking MDTM per file.
	NoMDTM bool
}

// PasswordEnv is the environment variable read when no other source gives
// a password.
const PasswordEnv = "PLAKAR_GW_FTP_PASSWORD"

// Importer reads a tree over FTP. It is safe for concurrent use.
type Importer struct {
	origin string // URL without credentials
	root   string // server path of the tree, cleaned, absolute
	pool   *pool
	cfg    Config
	mdtm   bool // ask MDTM for file times (LIST's are coarse)
	closed atomic.Bool
}

var _ importers.Importer = (*Importer)(nil)

// New parses cfg, dials one connection and logs in, so that a wrong host,
// password or certificate is reported now rather than at the first file.
func New(ctx context.Context, cfg Config) (*Importer, error) {
	d, root, origin, err := parse(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.Retries < 0 {
		cfg.Retries = 0
	} else if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	c, err := d.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("ftp importer: %s: %w", origin, err)
	}
	precise := c.IsTimePreciseInList()
	c.Quit()
	imp := &Importer{origin: origin, root: root, cfg: cfg}
	if !precise {
		d.listHidden = true
		imp.mdtm = !cfg.NoMDTM
	}
	imp.pool = newPool(d, cfg.Concurrency)
	return imp, nil
}

// Type returns "ftp".
func (imp *Importer) Type() string { return Type }

// Origin returns the URL without user password, e.g. "ftp://bob@host:2121/dir".
func (imp *Importer) Origin() string { return imp.origin }

// Close logs out every idle connection; Scan and Open fail afterwards.
func (imp *Importer) Close() error {
	if imp.closed.Swap(true) {
		return nil
	}
	imp.pool.close()
	return nil
}

// parse turns cfg into a dialer, the server root path and the origin.
func parse(cfg Config) (*dialer, string, string, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		// url's message quotes the URL, password included.
		return nil, "", "", errors.New("ftp importer: URL does not parse (want ftp://user@host[:port]/path)")
	}
	useTLS := cfg.TLS
	switch strings.ToLower(u.Scheme) {
	case "ftp":
	case "ftps":
		useTLS = true
	default:
		return nil, "", "", fmt.Errorf("ftp importer: scheme %q: want ftp or ftps", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, "", "", errors.New("ftp importer: URL has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, "", "", errors.New("ftp importer: URL must not hold a query or fragment (use options)")
	}
	port := u.Port()
	if port == "" {
		port = "21"
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return nil, "", "", fmt.Errorf("ftp importer: bad port %q", port)
	}
	d := &dialer{addr: net.JoinHostPort(u.Hostname(), port), user: "anonymous", timeout: cfg.Timeout}
	if d.timeout <= 0 {
		d.timeout = 30 * time.Second
	}
	if u.User != nil && u.User.Username() != "" {
		d.user = u.User.Username()
	}
	if d.password, err = password(cfg, u); err != nil {
		return nil, "", "", err
	}
	if useTLS {
		if d.tls, err = tlsConfig(cfg, u.Hostname()); err != nil {
			return nil, "", "", err
		}
	} else if cfg.CAFile != "" || cfg.InsecureSkipVerify {
		return nil, "", "", errors.New("ftp importer: ca_file and insecure_skip_verify need ftps:// or tls=true")
	}
	root := path.Clean("/" + u.Path)
	o := url.URL{Scheme: strings.ToLower(u.Scheme), Host: u.Host, Path: root}
	if useTLS {
		o.Scheme = "ftps"
	}
	if u.User != nil {
		o.User = url.User(u.User.Username())
	}
	return d, root, o.String(), nil
}

// password picks the password: Config, password file, URL, environment,
// else the customary anonymous one.
func password(cfg Config, u *url.URL) (string, error) {
	if cfg.Password != "" {
		return cfg.Password, nil
	}
	if cfg.PasswordFile != "" {
		b, err := os.ReadFile(cfg.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("ftp importer: password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimSuffix(line, "\r"), nil
	}
	if u.User != nil {
		if p, ok := u.User.Password(); ok {
			return p, nil
		}
	}
	if p, ok := os.LookupEnv(PasswordEnv); ok {
		return p, nil
	}
	return "anonymous@", nil
}

func tlsConfig(cfg Config, host string) (*tls.Config, error) {
	// A session cache lets data connections resume the control
	// connection's TLS session, which servers such as vsftpd require.
	c := &tls.Config{ServerName: host, InsecureSkipVerify: cfg.InsecureSkipVerify,
		ClientSessionCache: tls.NewLRUClientSessionCache(16), MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ftp importer: ca file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ftp importer: ca file %s holds no PEM certificate", cfg.CAFile)
		}
	}
	return c, nil
}

// serverPath maps a source path ("/", "/a/b") to the server's.
func (imp *Importer) serverPath(p string) string {
	if p == "/" {
		return imp.root
	}
	if imp.root == "/" {
		return p
	}
	return imp.root + p
}
