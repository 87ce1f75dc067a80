package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/retention"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
)

// ErrJobRunning reports a job that is already running in this process.
var ErrJobRunning = errors.New("job is already running")

// JobResult is the outcome of one run of a job.
type JobResult struct {
	Job      string
	Snapshot *snapshot.Snapshot // nil when the ingest failed
	Removed  []string           // snapshot ids removed by the retention policy
	Err      error
	Duration time.Duration
}

// Jobs runs the configured ingest jobs, on demand or on their schedules,
// at most MaxConcurrentJobs at once and never one job twice at a time.
type Jobs struct {
	repo    *engine.Repository
	cfg     *Config
	log     *slog.Logger
	sem     chan struct{}
	now     func() time.Time
	OnDone  func(JobResult) // called after every run (metrics); may be nil
	mu      sync.Mutex
	running map[string]bool
	wg      sync.WaitGroup
}

// NewJobs prepares the jobs of c over repo.
func NewJobs(repo *engine.Repository, c *Config, log *slog.Logger) *Jobs {
	n := c.MaxConcurrentJobs
	if n < 1 {
		n = 1
	}
	return &Jobs{repo: repo, cfg: c, log: log, sem: make(chan struct{}, n), now: time.Now, running: map[string]bool{}}
}

// Run runs the job called name once and applies its retention policy. It
// waits for a free slot; ErrJobRunning when the job is running already.
func (j *Jobs) Run(ctx context.Context, name string, p *engine.Progress) JobResult {
	res := JobResult{Job: name}
	job, ok := j.cfg.Job(name)
	if !ok {
		res.Err = fmt.Errorf("no job %q in the config", name)
		return res
	}
	j.mu.Lock()
	if j.running[name] {
		j.mu.Unlock()
		res.Err = fmt.Errorf("%s: %w", name, ErrJobRunning)
		return res
	}
	j.running[name] = true
	j.mu.Unlock()
	defer func() {
		j.mu.Lock()
		delete(j.running, name)
		j.mu.Unlock()
	}()
	select {
	case j.sem <- struct{}{}:
		defer func() { <-j.sem }()
	case <-ctx.Done():
		res.Err = ctx.Err()
		return res
	}
	start := j.now()
	res.Snapshot, res.Removed, res.Err = j.run(ctx, job, p)
	res.Duration = time.Since(start)
	if j.OnDone != nil {
		j.OnDone(res)
	}
	return res
}

func (j *Jobs) run(ctx context.Context, job JobConfig, p *engine.Progress) (*snapshot.Snapshot, []string, error) {
	var key *sign.PrivateKey
	if f := job.SignKey; f != "" || j.cfg.Signing.Key != "" {
		if f == "" {
			f = j.cfg.Signing.Key
		}
		k, err := LoadSigningKey(f)
		if err != nil {
			return nil, nil, err
		}
		key = k
	}
	imp, err := NewImporter(ctx, job.Importer, job.Source, job.Options)
	if err != nil {
		return nil, nil, err
	}
	defer imp.Close()
	s, err := j.repo.Ingest(ctx, imp, engine.IngestOptions{Job: job.Name, Tags: job.Tags, SignKey: key, Progress: p})
	if err != nil {
		return nil, nil, err
	}
	removed, err := ApplyRetention(ctx, j.repo, job.Name, job.Retention, false)
	return s, removed, err
}

// ApplyRetention removes the snapshots of job that policy does not keep
// (only lists them with dryRun) and returns their ids.
func ApplyRetention(ctx context.Context, repo *engine.Repository, job string, policy retention.Policy, dryRun bool) ([]string, error) {
	if policy.IsZero() {
		return nil, nil
	}
	snaps, _, err := repo.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	var items []retention.Item
	for _, s := range snaps {
		if s.Header.Job == job {
			items = append(items, retention.Item{ID: s.ID.String(), Time: s.Header.Time})
		}
	}
	var removed []string
	for _, d := range retention.Apply(items, policy, time.Now(), time.Local) {
		if d.Keep {
			continue
		}
		if !dryRun {
			if _, err := repo.RemoveSnapshot(ctx, d.ID); err != nil {
				return removed, fmt.Errorf("retention: remove %s: %w", d.ID[:12], err)
			}
		}
		removed = append(removed, d.ID)
	}
	return removed, nil
}

// Start runs every scheduled job on its schedule until ctx is done; runs
// use runCtx, so that shutdown can stop scheduling at once and let runs in
// flight finish until a deadline. A run that comes due while the previous
// one is still going is skipped, not queued. Wait waits for the runs.
func (j *Jobs) Start(ctx, runCtx context.Context) {
	for _, job := range j.cfg.Jobs {
		if job.Schedule == "" {
			continue
		}
		sch, err := ParseSchedule(job.Schedule)
		if err != nil { // validated at load; kept for safety
			j.log.Error("bad schedule", "job", job.Name, "err", err)
			continue
		}
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			j.loop(ctx, runCtx, job.Name, sch)
		}()
	}
}

func (j *Jobs) loop(ctx, runCtx context.Context, name string, sch Schedule) {
	for {
		next := sch.Next(j.now())
		j.log.Info("job scheduled", "job", name, "next", next.Format(time.RFC3339))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		j.mu.Lock()
		busy := j.running[name]
		j.mu.Unlock()
		if busy {
			j.log.Warn("job still running; this run is skipped", "job", name)
			continue
		}
		j.wg.Add(1)
		go func() {
			defer j.wg.Done()
			j.logResult(j.Run(runCtx, name, nil))
		}()
	}
}

func (j *Jobs) logResult(res JobResult) {
	switch {
	case res.Err != nil && errors.Is(res.Err, context.Canceled):
		j.log.Info("job stopped by shutdown; no snapshot written", "job", res.Job)
	case res.Err != nil:
		j.log.Error("job failed", "job", res.Job, "err", res.Err, "duration", res.Duration)
	default:
		h := res.Snapshot.Header
		j.log.Info("job done", "job", res.Job, "snapshot", res.Snapshot.ID.String()[:12], "files", h.Summary.Subtree.Files,
			"bytes", h.Summary.Subtree.Bytes, "errors", h.Summary.Subtree.Errors, "stored", h.Stats.StoredAdded,
			"removed", len(res.Removed), "duration", res.Duration.Round(time.Millisecond))
	}
}

// Wait waits for every scheduled run in flight to return.
func (j *Jobs) Wait() { j.wg.Wait() }
