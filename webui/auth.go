package webui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"golang.org/x/crypto/bcrypt"
)

const (
	sessionCookie = "plakar_gw_session"
	// csrfCookie carries the token of visitors without a session (the
	// login form, anonymous browsing): double-submit, the form echoes it.
	csrfCookie = "plakar_gw_csrf"

	authCacheTTL = 2 * time.Minute
	authCacheMax = 1024
	sessionMax   = 100000
)

// authenticator checks passwords against bcrypt hashes. A successful
// check is remembered briefly under sha256(user, password), so that a
// burst of logins (a test suite, a script) does not cost a bcrypt each;
// failures are never remembered.
type authenticator struct {
	users map[string][]byte
	dummy []byte // compared for unknown users, so they cost the same time

	mu   sync.Mutex
	good map[[32]byte]time.Time
}

func newAuthenticator(users map[string][]byte) *authenticator {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.MinCost)
	return &authenticator{users: users, dummy: dummy, good: map[[32]byte]time.Time{}}
}

func (a *authenticator) check(user, pass string) bool {
	key := sha256.Sum256([]byte(user + "\x00" + pass))
	now := time.Now()
	a.mu.Lock()
	exp, hit := a.good[key]
	a.mu.Unlock()
	if hit && now.Before(exp) {
		return true
	}
	hash, known := a.users[user]
	if !known {
		hash = a.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !known {
		return false
	}
	a.mu.Lock()
	if len(a.good) >= authCacheMax {
		clear(a.good)
	}
	a.good[key] = now.Add(authCacheTTL)
	a.mu.Unlock()
	return true
}

type session struct {
	user    string
	csrf    string
	expires time.Time
}

// sessions live in memory: a restart logs everybody out, which is the
// price of not storing anything on the gateway's disk.
type sessions struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]*session
}

func newSessions(ttl time.Duration) *sessions {
	return &sessions{ttl: ttl, m: map[string]*session{}}
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (ss *sessions) create(user string) (string, *session) {
	id := randomToken()
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= sessionMax {
		for k, v := range ss.m {
			if now.After(v.expires) {
				delete(ss.m, k)
			}
		}
	}
	s := &session{user: user, csrf: randomToken(), expires: now.Add(ss.ttl)}
	ss.m[id] = s
	return id, s
}

// get returns the live session and slides its expiry.
func (ss *sessions) get(id string) *session {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[id]
	if s == nil {
		return nil
	}
	now := time.Now()
	if now.After(s.expires) {
		delete(ss.m, id)
		return nil
	}
	s.expires = now.Add(ss.ttl)
	return s
}

func (ss *sessions) drop(id string) {
	ss.mu.Lock()
	delete(ss.m, id)
	ss.mu.Unlock()
}

// visitor is what the guard learned about a request.
type visitor struct {
	user string // "" when anonymous
	csrf string // token every POST form must carry
	cat  vfs.Catalog
}

type visitorKey struct{}

func visitorOf(r *http.Request) *visitor {
	v, _ := r.Context().Value(visitorKey{}).(*visitor)
	if v == nil {
		return &visitor{}
	}
	return v
}

// guard sets security headers, finds the session, sends visitors who must
// log in to the login page, and checks the CSRF token of every POST.
func (s *server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		v := &visitor{}
		if c, err := r.Cookie(sessionCookie); err == nil {
			if sess := s.sessions.get(c.Value); sess != nil {
				v.user, v.csrf = sess.user, sess.csrf
			}
		}
		if v.user == "" {
			v.csrf = s.anonymousToken(w, r)
		}
		public := r.URL.Path == "/login" || strings.HasPrefix(r.URL.Path, "/static/")
		if v.user == "" && !s.o.Anonymous && !public {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.errorPage(w, r, http.StatusUnauthorized, "log in first")
			return
		}
		if r.Method == http.MethodPost && !validToken(r, v.csrf) {
			s.errorPage(w, r, http.StatusForbidden, "missing or wrong form token (CSRF); reload the page and try again")
			return
		}
		if v.user != "" && s.o.SeenUser != nil {
			s.o.SeenUser(r, v.user)
		}
		v.cat = s.cat
		if v.user != "" && s.o.CatalogFor != nil {
			v.cat = s.o.CatalogFor(v.user)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), visitorKey{}, v)))
	})
}

// anonymousToken returns the double-submit token of a visitor without a
// session, setting its cookie on first sight.
func (s *server) anonymousToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, s.cookie(csrfCookie, tok, 0))
	return tok
}

func (s *server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.o.Secure, SameSite: http.SameSiteStrictMode}
}

// maxForm bounds what a POST may send: a selection of many names, not a
// file upload.
const maxForm = 8 << 20

func validToken(r *http.Request, want string) bool {
	r.Body = http.MaxBytesReader(nil, r.Body, maxForm)
	got := r.PostFormValue("csrf")
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", map[string]any{"Next": safeNext(r.FormValue("next"))})
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	user, pass := r.PostFormValue("user"), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	if !s.auth.check(user, pass) {
		s.render(w, r, http.StatusUnauthorized, "login", map[string]any{"Next": next, "Failed": true, "User": user})
		return
	}
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.drop(c.Value)
	}
	id, _ := s.sessions.create(user)
	http.SetCookie(w, s.cookie(sessionCookie, id, int(s.o.SessionTTL/time.Second)))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.drop(c.Value)
	}
	http.SetCookie(w, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path, never
// "//host" or a scheme.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
