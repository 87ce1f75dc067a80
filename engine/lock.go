package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// ErrLocked reports a lock that conflicts with the one asked for.
var ErrLocked = errors.New("repository is locked")

type lockTiming struct {
	ttl     time.Duration // a lock not refreshed for this long is stale
	refresh time.Duration
}

func defaultLockTiming() lockTiming {
	return lockTiming{ttl: 30 * time.Minute, refresh: 5 * time.Minute}
}

type lockInfo struct {
	Exclusive bool      `json:"exclusive"`
	Hostname  string    `json:"hostname"`
	PID       int       `json:"pid"`
	Time      time.Time `json:"time"`
}

const lockAD = "plakar-gw lock v1"

// Lock takes a shared lock (ingest: many may hold one) or an exclusive one
// (gc: alone). Both sides write their lock first and then look at the
// others, so two racing writers both see the conflict and both back off:
// never both proceed. The returned function releases the lock.
func (r *Repository) Lock(ctx context.Context, exclusive bool) (unlock func(), err error) {
	kind := "shared"
	if exclusive {
		kind = "exclusive"
	}
	suffix := make([]byte, 16)
	rand.Read(suffix)
	name := kind + "-" + hex.EncodeToString(suffix)
	if err := r.writeLock(ctx, name, exclusive); err != nil {
		return nil, err
	}
	release := func() { r.store.Delete(context.WithoutCancel(ctx), storage.KindLock, name) }
	if err := r.checkLocks(ctx, name, exclusive); err != nil {
		release()
		return nil, err
	}
	done := make(chan struct{})
	go r.refreshLock(ctx, name, exclusive, done)
	return func() { close(done); release() }, nil
}

func (r *Repository) writeLock(ctx context.Context, name string, exclusive bool) error {
	host, _ := os.Hostname()
	b, _ := json.Marshal(lockInfo{Exclusive: exclusive, Hostname: host, PID: os.Getpid(), Time: time.Now().UTC()})
	return r.store.Put(ctx, storage.KindLock, name, bytes.NewReader(r.key.Seal(nil, b, []byte(lockAD))))
}

func (r *Repository) refreshLock(ctx context.Context, name string, exclusive bool, done chan struct{}) {
	t := time.NewTicker(r.lockTTL.refresh)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			r.writeLock(ctx, name, exclusive)
		}
	}
}

func (r *Repository) checkLocks(ctx context.Context, own string, exclusive bool) error {
	for name, err := range r.store.List(ctx, storage.KindLock) {
		if err != nil {
			return err
		}
		if name == own || (!exclusive && !strings.HasPrefix(name, "exclusive-")) {
			continue
		}
		info, err := r.readLock(ctx, name)
		if errors.Is(err, storage.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("lock %s: %w", name, err)
		}
		if r.stale(info) {
			r.store.Delete(ctx, storage.KindLock, name)
			continue
		}
		return fmt.Errorf("%w: %s lock held by pid %d on %s since %s", ErrLocked,
			map[bool]string{true: "exclusive", false: "shared"}[info.Exclusive], info.PID, info.Hostname, info.Time.Format(time.RFC3339))
	}
	return nil
}

func (r *Repository) readLock(ctx context.Context, name string) (lockInfo, error) {
	var info lockInfo
	b, err := r.readObject(ctx, storage.KindLock, name)
	if err != nil {
		return info, err
	}
	plain, err := r.key.Open(nil, b, []byte(lockAD))
	if err != nil {
		return info, err
	}
	return info, json.Unmarshal(plain, &info)
}

// stale reports a lock that no live process holds: too old, or left by a
// process of this host that no longer exists (kill -9).
func (r *Repository) stale(info lockInfo) bool {
	if time.Since(info.Time) > r.lockTTL.ttl {
		return true
	}
	host, _ := os.Hostname()
	if info.Hostname == host && info.PID > 0 {
		err := syscall.Kill(info.PID, 0)
		return errors.Is(err, syscall.ESRCH)
	}
	return false
}

// RemoveStaleLocks deletes locks whose holder is gone, and returns how many.
func (r *Repository) RemoveStaleLocks(ctx context.Context) (int, error) {
	n := 0
	for name, err := range r.store.List(ctx, storage.KindLock) {
		if err != nil {
			return n, err
		}
		if info, err := r.readLock(ctx, name); err == nil && r.stale(info) {
			if r.store.Delete(ctx, storage.KindLock, name) == nil {
				n++
			}
		}
	}
	return n, nil
}
