package dav

import (
	"context"
	"net/http"
	"sync"
)

// serveFile answers GET and HEAD through webdav.Handler, which hands files
// to http.ServeContent (Range, ETag, If-None-Match, If-Modified-Since).
// ServeContent ignores read errors, so the file records them and this
// decides: a file that fails before its first byte is a 500; one that fails
// later cuts the connection, so that no client takes a short body for a
// complete one.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, res *resource) {
	st := &readState{}
	ctx := context.WithValue(r.Context(), getKey{}, &getReq{res: res, st: st})
	dw := &deferWriter{ResponseWriter: w}
	h.get.ServeHTTP(dw, r.WithContext(ctx))
	if err := st.get(); err != nil {
		if dw.wrote > 0 {
			panic(http.ErrAbortHandler)
		}
		hd := w.Header()
		for _, k := range []string{"Content-Length", "Content-Range", "Content-Type", "ETag", "Last-Modified", "Accept-Ranges", "Content-Encoding"} {
			hd.Del(k)
		}
		writeError(w, err)
		return
	}
	dw.finish()
}

// getKey carries the resource resolved by the handler to roFS.OpenFile,
// so that a GET looks its path up once.
type getKey struct{}

type getReq struct {
	res *resource
	st  *readState
}

// readState is the first read error of a request's file.
type readState struct {
	mu  sync.Mutex
	err error
}

func (s *readState) set(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

func (s *readState) get() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// deferWriter holds the status line back until the first body byte, so
// that an error found before it can still replace the reply.
type deferWriter struct {
	http.ResponseWriter
	code  int
	sent  bool
	wrote int64
}

func (d *deferWriter) WriteHeader(code int) {
	if d.sent {
		return
	}
	if code < 200 {
		d.ResponseWriter.WriteHeader(code)
		return
	}
	if d.code == 0 {
		d.code = code
	}
}

func (d *deferWriter) Write(p []byte) (int, error) {
	d.send()
	n, err := d.ResponseWriter.Write(p)
	d.wrote += int64(n)
	return n, err
}

func (d *deferWriter) send() {
	if d.sent {
		return
	}
	d.sent = true
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.ResponseWriter.WriteHeader(d.code)
}

func (d *deferWriter) finish() {
	if d.code != 0 {
		d.send()
	}
}
