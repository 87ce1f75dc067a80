package dav

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// authenticator checks HTTP Basic credentials against bcrypt hashes. A
// bcrypt comparison costs tens of milliseconds, and Finder or rclone send
// hundreds of requests with the same credentials, so a successful check is
// remembered for a few minutes under sha256(user, password); failures are
// never remembered.
type authenticator struct {
	users     map[string][]byte
	anonymous bool
	dummy     []byte // compared for unknown users, so they cost the same time

	mu   sync.Mutex
	good map[[32]byte]time.Time // expiry
}

const (
	authCacheTTL = 5 * time.Minute
	authCacheMax = 4096
)

func newAuthenticator(users map[string][]byte, anonymous bool) *authenticator {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.MinCost)
	return &authenticator{users: users, anonymous: anonymous, dummy: dummy, good: map[[32]byte]time.Time{}}
}

// check returns the user name and whether the request may go on. Given
// credentials must be right even when anonymous reading is allowed: a
// client that believes it is logged in should learn that it is not.
func (a *authenticator) check(r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", a.anonymous && r.Header.Get("Authorization") == ""
	}
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	var key [32]byte
	h.Sum(key[:0])
	now := time.Now()
	a.mu.Lock()
	exp, hit := a.good[key]
	a.mu.Unlock()
	if hit && now.Before(exp) {
		return user, true
	}
	hash, known := a.users[user]
	if !known {
		hash = a.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(pass)) != nil || !known {
		return user, false
	}
	a.mu.Lock()
	if len(a.good) >= authCacheMax {
		clear(a.good)
	}
	a.good[key] = now.Add(authCacheTTL)
	a.mu.Unlock()
	return user, true
}
