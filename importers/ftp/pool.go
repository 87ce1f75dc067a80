package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"sync"
	"time"

	"github.com/jlaffaye/ftp"
)

// dialer opens logged-in connections.
type dialer struct {
	addr, user, password string
	tls                  *tls.Config // explicit FTPS when set
	timeout              time.Duration
	// listHidden sends "LIST -a": without MLSD, servers such as vsftpd
	// hide dot files from a plain LIST. Set once in New, before sharing.
	listHidden bool
}

// dial connects and logs in. Every socket, control and data, is wrapped
// so that each read and write has a deadline: a server that stops
// answering fails the call after the timeout instead of hanging the ingest.
func (d *dialer) dial(ctx context.Context) (*ftp.ServerConn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	nd := &net.Dialer{Timeout: d.timeout}
	first := true
	var mu sync.Mutex
	dialFunc := func(network, addr string) (net.Conn, error) {
		mu.Lock()
		control := first
		first = false
		mu.Unlock()
		if control {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &deadlineConn{Conn: c, timeout: d.timeout}, nil
		}
		c, err := nd.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		var dc net.Conn = &deadlineConn{Conn: c, timeout: d.timeout}
		if d.tls != nil {
			// With a dial function the library leaves data connections
			// in clear text; PROT P asked for TLS on them.
			dc = tls.Client(dc, d.tls)
		}
		return dc, nil
	}
	opts := []ftp.DialOption{ftp.DialWithDialFunc(dialFunc), ftp.DialWithShutTimeout(d.timeout),
		ftp.DialWithForceListHidden(d.listHidden)}
	if d.tls != nil {
		opts = append(opts, ftp.DialWithExplicitTLS(d.tls))
	}
	c, err := ftp.Dial(d.addr, opts...)
	if err != nil {
		return nil, err
	}
	if err := c.Login(d.user, d.password); err != nil {
		c.Quit()
		// The library's message is the server's reply, never the password.
		return nil, &loginError{err}
	}
	return c, nil
}

// loginError is a refused login: retrying will not help.
type loginError struct{ err error }

func (e *loginError) Error() string { return "login refused: " + e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

// deadlineConn gives every Read and Write its own deadline: an idle
// timeout, so a long transfer that keeps moving never times out.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// pool holds up to n connections; get blocks while n are in use. A
// connection that failed is discarded, not put back, and the next get dials
// a fresh one.
type pool struct {
	d      *dialer
	tokens chan struct{}
	mu     sync.Mutex
	idle   []*ftp.ServerConn
	closed bool
}

func newPool(d *dialer, n int) *pool {
	p := &pool{d: d, tokens: make(chan struct{}, n)}
	for range n {
		p.tokens <- struct{}{}
	}
	return p
}

var errClosed = errors.New("ftp importer: closed")

func (p *pool) get(ctx context.Context) (*ftp.ServerConn, error) {
	select {
	case <-p.tokens:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.tokens <- struct{}{}
		return nil, os.ErrClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	c, err := p.d.dial(ctx)
	if err != nil {
		p.tokens <- struct{}{}
		return nil, err
	}
	return c, nil
}

// dialExtra dials a connection outside the pool's bound: the scan's own,
// so that listing never waits behind file transfers, nor they behind it.
func (p *pool) dialExtra(ctx context.Context) (*ftp.ServerConn, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, os.ErrClosed
	}
	return p.d.dial(ctx)
}

// put returns a healthy connection.
func (p *pool) put(c *ftp.ServerConn) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Quit()
	} else {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	p.tokens <- struct{}{}
}

// discard drops a connection that failed (its state is unknown).
func (p *pool) discard(c *ftp.ServerConn) {
	c.Quit()
	p.tokens <- struct{}{}
}

func (p *pool) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		c.Quit()
	}
}
