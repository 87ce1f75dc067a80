package enginetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/storage"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// The lock race runs gc and ingest as two real processes (the test binary
// re-executed) on one repository, each stopped at a chosen point of its
// locking until the test lets it go, so that every order of "write my
// lock" and "look at the others" is played out rather than left to timing.

const lockRaceEnv = "PLAKAR_GW_TEST_LOCKRACE_CHILD"

// Points where a child process stops until the test releases it.
const (
	atLockWritten = "lock-written" // its lock object is stored, the others not yet looked at
	atChecked     = "checked"      // it has listed the locks, and not yet acted on what it saw
	atPackWritten = "pack-written" // ingest: a pack is stored that no index names yet
	atDeleting    = "deleting"     // gc: about to delete its first pack
)

type lockRaceJob struct {
	Role  string   // "ingest" or "gc"
	Store string   // handed to the package's open function
	Src   string   // folder the ingest reads
	Pause []string // points above to stop at, once each
	Ctl   string   // folder of the markers and the result
}

type lockRaceResult struct {
	Outcome  string // "ok", "locked" or "error"
	Err      string
	Snapshot string
}

// LockRaceChild turns the test binary into a lock-race child when the
// parent test started it as one, and then exits; otherwise it returns.
// Call it first in TestMain, with the package's way of opening the store
// that RunLockRace's newStore named.
func LockRaceChild(open func(store string) (storage.Store, error)) {
	v := os.Getenv(lockRaceEnv)
	if v == "" {
		return
	}
	var job lockRaceJob
	if err := json.Unmarshal([]byte(v), &job); err != nil {
		fmt.Fprintln(os.Stderr, "lock race child:", err)
		os.Exit(2)
	}
	res := runLockRaceChild(job, open)
	b, _ := json.Marshal(res)
	if err := os.WriteFile(filepath.Join(job.Ctl, job.Role+".result"), b, 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "lock race child:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func runLockRaceChild(job lockRaceJob, open func(string) (storage.Store, error)) lockRaceResult {
	ctx := context.Background()
	fail := func(err error) lockRaceResult {
		if errors.Is(err, engine.ErrLocked) {
			return lockRaceResult{Outcome: "locked", Err: err.Error()}
		}
		return lockRaceResult{Outcome: "error", Err: err.Error()}
	}
	st, err := open(job.Store)
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	cache, err := os.MkdirTemp("", "lockrace-cache-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(cache)
	r, err := engine.Open(ctx, &pausingStore{Store: st, job: job}, engine.Options{Passphrase: []byte(Passphrase), CacheDir: cache})
	if err != nil {
		return fail(err)
	}
	defer r.Close()
	switch job.Role {
	case "gc":
		if _, err := r.GC(ctx, engine.GCOptions{}); err != nil {
			return fail(err)
		}
		return lockRaceResult{Outcome: "ok"}
	case "ingest":
		imp, err := fsimporter.New(ctx, fsimporter.Config{Root: job.Src})
		if err != nil {
			return fail(err)
		}
		defer imp.Close()
		s, err := r.Ingest(ctx, imp, engine.IngestOptions{NoParent: true})
		if err != nil {
			return fail(err)
		}
		return lockRaceResult{Outcome: "ok", Snapshot: s.ID.String()}
	}
	return fail(fmt.Errorf("unknown role %q", job.Role))
}

// pausingStore stops its process once at job.Pause: it leaves a marker
// file and waits for the parent's go-ahead file.
type pausingStore struct {
	storage.Store
	job         lockRaceJob
	mu          sync.Mutex
	passed      map[string]bool
	lockWritten bool
}

func (p *pausingStore) at(point string) {
	p.mu.Lock()
	stop := slices.Contains(p.job.Pause, point) && !p.passed[point]
	if stop {
		if p.passed == nil {
			p.passed = map[string]bool{}
		}
		p.passed[point] = true
	}
	p.mu.Unlock()
	if !stop {
		return
	}
	marker := filepath.Join(p.job.Ctl, p.job.Role+"."+point)
	os.WriteFile(marker, nil, 0o600)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(marker + ".go"); err == nil {
			return
		}
	}
}

func (p *pausingStore) Put(ctx context.Context, kind storage.Kind, name string, r io.Reader) error {
	err := p.Store.Put(ctx, kind, name, r)
	if err == nil {
		switch kind {
		case storage.KindLock:
			p.mu.Lock()
			p.lockWritten = true
			p.mu.Unlock()
			p.at(atLockWritten)
		case storage.KindPack:
			p.at(atPackWritten)
		}
	}
	return err
}

// List stops at "checked" once a listing of the locks that follows the
// process's own lock is complete: what it yields is what the store held
// before the stop.
func (p *pausingStore) List(ctx context.Context, kind storage.Kind) iter.Seq2[string, error] {
	p.mu.Lock()
	after := kind == storage.KindLock && p.lockWritten
	p.mu.Unlock()
	if !after {
		return p.Store.List(ctx, kind)
	}
	return func(yield func(string, error) bool) {
		type item struct {
			name string
			err  error
		}
		var items []item
		for name, err := range p.Store.List(ctx, kind) {
			items = append(items, item{name, err})
		}
		p.at(atChecked)
		for _, it := range items {
			if !yield(it.name, it.err) {
				return
			}
		}
	}
}

func (p *pausingStore) Delete(ctx context.Context, kind storage.Kind, name string) error {
	if kind == storage.KindPack {
		p.at(atDeleting)
	}
	return p.Store.Delete(ctx, kind, name)
}

// lockRaceChild is one started child process.
type lockRaceChild struct {
	job  lockRaceJob
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func startLockRaceChild(t *testing.T, job lockRaceJob) *lockRaceChild {
	t.Helper()
	b, _ := json.Marshal(job)
	c := &lockRaceChild{job: job, done: make(chan struct{})}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockRaceEnv+"="+string(b))
	cmd.Stdout, cmd.Stderr = &c.out, &c.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

// paused waits until the child stops at point.
func (c *lockRaceChild) paused(t *testing.T, point string) {
	t.Helper()
	marker := filepath.Join(c.job.Ctl, c.job.Role+"."+point)
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(marker); err == nil {
			return
		}
		select {
		case <-c.done:
			t.Fatalf("%s ended before reaching %s: %v\n%s", c.job.Role, point, c.err, c.out.String())
		default:
		}
	}
	t.Fatalf("%s never reached %s", c.job.Role, point)
}

func (c *lockRaceChild) release(t *testing.T, point string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(c.job.Ctl, c.job.Role+"."+point+".go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// result waits for the child to end and checks its outcome.
func (c *lockRaceChild) result(t *testing.T, want string) lockRaceResult {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s did not end", c.job.Role)
	}
	var res lockRaceResult
	b, err := os.ReadFile(filepath.Join(c.job.Ctl, c.job.Role+".result"))
	if err == nil {
		err = json.Unmarshal(b, &res)
	}
	if err != nil || c.err != nil {
		t.Fatalf("%s: %v, %v\n%s", c.job.Role, err, c.err, c.out.String())
	}
	if res.Outcome != want {
		t.Fatalf("%s: %s (%s), want %s", c.job.Role, res.Outcome, res.Err, want)
	}
	return res
}

// RunLockRace plays gc against an ingest from another process at each of
// their lock points, on a repository holding the packs of a removed
// snapshot (garbage for gc) in the store that newStore names and open
// opens (also in the child processes: TestMain must call LockRaceChild).
// Whatever the order, the two never both proceed, gc never deletes a pack
// the ingest's snapshot needs, and every snapshot made reads back whole.
func RunLockRace(t *testing.T, newStore func(t *testing.T) string, open func(store string) (storage.Store, error)) {
	type setup struct {
		store, src, ctl string
		garbage         []string // packs of the removed snapshot
	}
	prepare := func(t *testing.T) setup {
		t.Helper()
		s := setup{store: newStore(t), src: t.TempDir(), ctl: t.TempDir()}
		st, err := open(s.store)
		if err != nil {
			t.Fatal(err)
		}
		r := NewRepoOn(t, st)
		old := t.TempDir()
		if err := WriteRandomFile(filepath.Join(old, "old.bin"), 1, 6<<20); err != nil {
			t.Fatal(err)
		}
		s0 := Ingest(t, r, old, engine.IngestOptions{})
		if _, err := r.RemoveSnapshot(context.Background(), s0.ID.String()); err != nil {
			t.Fatal(err)
		}
		s.garbage = storeNames(t, st, storage.KindPack)
		// 20 MiB of new data: the ingest stores a pack before it ends.
		for i := range 4 {
			if err := WriteRandomFile(filepath.Join(s.src, fmt.Sprintf("f%d", i)), uint64(10+i), 5<<20); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}
	child := func(t *testing.T, s setup, role string, pause ...string) *lockRaceChild {
		return startLockRaceChild(t, lockRaceJob{Role: role, Store: s.store, Src: s.src, Pause: pause, Ctl: s.ctl})
	}
	// verify reopens the repository as a third process would: no lock is
	// left, the garbage is gone exactly when gc ran, every snapshot reads
	// back as the source and check --read-data finds nothing wrong.
	verify := func(t *testing.T, s setup, gcRan bool, snapshots []string) {
		t.Helper()
		st, err := open(s.store)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if locks := storeNames(t, st, storage.KindLock); len(locks) != 0 {
			t.Errorf("locks left behind: %v", locks)
		}
		packs := storeNames(t, st, storage.KindPack)
		for _, g := range s.garbage {
			if slices.Contains(packs, g) == gcRan {
				t.Errorf("garbage pack %s: present %v after gc ran=%v", g, !gcRan, gcRan)
			}
		}
		r := OpenRepo(t, st)
		ctx := context.Background()
		infos, err := r.Snapshots(ctx)
		if err != nil || len(infos) != len(snapshots) {
			t.Fatalf("%d snapshots, want %d: %v", len(infos), len(snapshots), err)
		}
		for _, id := range snapshots {
			fsys, err := r.OpenSnapshot(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := readAll(t, fsys, s.src); n != 4 {
				t.Errorf("snapshot %s: %d files compared", id, n)
			}
		}
		if rep := checkRepo(t, r); len(rep.Problems) != 0 {
			t.Errorf("check --read-data: %q", rep.Problems)
		}
	}

	// Both write their lock, then both list the locks and see each other's.
	// The first to read the other's lock backs off and removes its own; the
	// second then finds that lock gone and goes on. Never both.
	bothLocked := func(t *testing.T, first string) {
		s := prepare(t)
		in, gc := child(t, s, "ingest", atLockWritten, atChecked), child(t, s, "gc", atLockWritten, atChecked)
		for _, c := range []*lockRaceChild{in, gc} {
			c.paused(t, atLockWritten)
		}
		for _, c := range []*lockRaceChild{in, gc} {
			c.release(t, atLockWritten)
			c.paused(t, atChecked)
		}
		if first == "ingest" {
			in.release(t, atChecked)
			in.result(t, "locked")
			gc.release(t, atChecked)
			gc.result(t, "ok")
			verify(t, s, true, nil)
			return
		}
		gc.release(t, atChecked)
		gc.result(t, "locked")
		in.release(t, atChecked)
		res := in.result(t, "ok")
		verify(t, s, false, []string{res.Snapshot})
	}
	t.Run("BothLockedIngestLooksFirst", func(t *testing.T) { bothLocked(t, "ingest") })
	t.Run("BothLockedGCLooksFirst", func(t *testing.T) { bothLocked(t, "gc") })
	// hold stops holder at point, runs other to its end, then lets the
	// holder finish.
	hold := func(t *testing.T, s setup, holder, point, other, wantOther, wantHolder string) lockRaceResult {
		h := child(t, s, holder, point)
		h.paused(t, point)
		child(t, s, other).result(t, wantOther)
		h.release(t, point)
		return h.result(t, wantHolder)
	}
	// The ingest's lock is stored before gc looks: gc backs off, and the
	// ingest goes on once it has looked.
	t.Run("IngestLocksFirst", func(t *testing.T) {
		s := prepare(t)
		res := hold(t, s, "ingest", atLockWritten, "gc", "locked", "ok")
		verify(t, s, false, []string{res.Snapshot})
	})
	// gc's lock is stored before the ingest looks: the ingest backs off,
	// and gc goes on.
	t.Run("GCLocksFirst", func(t *testing.T) {
		s := prepare(t)
		hold(t, s, "gc", atLockWritten, "ingest", "locked", "ok")
		verify(t, s, true, nil)
	})
	// The ingest has stored a pack that no index names yet (what a
	// careless gc would delete): gc refuses and deletes nothing.
	t.Run("GCDuringIngestWithUnindexedPack", func(t *testing.T) {
		s := prepare(t)
		in := child(t, s, "ingest", atPackWritten)
		in.paused(t, atPackWritten)
		st, err := open(s.store)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		before := storeNames(t, st, storage.KindPack)
		if len(before) <= len(s.garbage) {
			t.Fatalf("the ingest stopped with %d packs stored, want more than the %d old ones", len(before), len(s.garbage))
		}
		child(t, s, "gc").result(t, "locked")
		// The ingest's other writers may still add packs; none may go.
		after := storeNames(t, st, storage.KindPack)
		for _, p := range before {
			if !slices.Contains(after, p) {
				t.Fatalf("gc refused but pack %s is gone", p)
			}
		}
		in.release(t, atPackWritten)
		res := in.result(t, "ok")
		child(t, s, "gc").result(t, "ok")
		verify(t, s, true, []string{res.Snapshot})
	})
	// gc holds its lock and is deleting: an ingest cannot start.
	t.Run("IngestDuringGCDeleting", func(t *testing.T) {
		s := prepare(t)
		hold(t, s, "gc", atDeleting, "ingest", "locked", "ok")
		res := child(t, s, "ingest").result(t, "ok")
		verify(t, s, true, []string{res.Snapshot})
	})
}

func storeNames(t *testing.T, st storage.Store, kind storage.Kind) []string {
	t.Helper()
	var names []string
	for name, err := range st.List(context.Background(), kind) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
