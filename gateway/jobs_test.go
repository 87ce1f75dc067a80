package gateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/retention"
)

func TestJobsRunRetentionAndSingleRun(t *testing.T) {
	repo, _ := enginetest.NewRepo(t)
	src := t.TempDir()
	if err := enginetest.WriteFile(filepath.Join(src, "a.txt"), []byte("a")); err != nil {
		t.Fatal(err)
	}
	c := &Config{MaxConcurrentJobs: 1, Jobs: []JobConfig{
		{Name: "docs", Importer: "fs", Source: src, Tags: []string{"t1"}, Retention: retention.Policy{KeepLast: 2}},
		{Name: "keepall", Importer: "fs", Source: src},
	}}
	jobs := NewJobs(repo, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	var done []JobResult
	var mu sync.Mutex
	jobs.OnDone = func(r JobResult) { mu.Lock(); done = append(done, r); mu.Unlock() }
	ctx := context.Background()
	var last JobResult
	for i := range 4 {
		last = jobs.Run(ctx, "docs", nil)
		if last.Err != nil {
			t.Fatal(last.Err)
		}
		if want := max(0, i-1); len(last.Removed) != min(1, want) {
			t.Errorf("run %d removed %d", i, len(last.Removed))
		}
		jobs.Run(ctx, "keepall", nil)
		time.Sleep(10 * time.Millisecond) // distinct snapshot times
	}
	snaps, _, err := repo.ListSnapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]int{}
	for _, s := range snaps {
		per[s.Header.Job]++
		if s.Header.Job == "docs" && (len(s.Header.Tags) != 1 || s.Header.Tags[0] != "t1") {
			t.Errorf("tags %v", s.Header.Tags)
		}
	}
	if per["docs"] != 2 || per["keepall"] != 4 {
		t.Errorf("snapshots per job %v, want docs 2 (keep_last 2), keepall 4", per)
	}
	if snaps[0].ID != last.Snapshot.ID && snaps[1].ID != last.Snapshot.ID {
		t.Error("the newest docs snapshot was removed")
	}
	if len(done) != 8 {
		t.Errorf("OnDone called %d times", len(done))
	}
	if r := jobs.Run(ctx, "nope", nil); r.Err == nil {
		t.Error("unknown job ran")
	}

	// A job that is running is not started twice: hold the slot, then
	// start the same job from two goroutines.
	jobs.sem <- struct{}{}
	results := make(chan JobResult, 2)
	for range 2 {
		go func() { results <- jobs.Run(ctx, "docs", nil) }()
	}
	first := <-results // the refused one returns at once
	if !errors.Is(first.Err, ErrJobRunning) {
		t.Errorf("second start: %v, want ErrJobRunning", first.Err)
	}
	<-jobs.sem
	if second := <-results; second.Err != nil {
		t.Errorf("first start: %v", second.Err)
	}
}

func TestJobsCancelledWritesNoSnapshot(t *testing.T) {
	repo, _ := enginetest.NewRepo(t)
	src := t.TempDir()
	if err := enginetest.WriteRandomFile(filepath.Join(src, "big"), 1, 64<<20); err != nil {
		t.Fatal(err)
	}
	c := &Config{MaxConcurrentJobs: 1, Jobs: []JobConfig{{Name: "big", Importer: "fs", Source: src}}}
	jobs := NewJobs(repo, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	p := &engine.Progress{}
	go func() {
		for p.Bytes.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if r := jobs.Run(ctx, "big", p); !errors.Is(r.Err, context.Canceled) {
		t.Fatalf("cancelled run: %v", r.Err)
	}
	snaps, _, _ := repo.ListSnapshots(context.Background())
	if len(snaps) != 0 {
		t.Errorf("%d snapshots after a cancelled run", len(snaps))
	}
}
