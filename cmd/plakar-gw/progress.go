package main

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
)

// showProgress reports an ingest's progress until the returned function is
// called: a line redrawn 4 times a second on a terminal, else a log line
// every 10 seconds.
func (a *app) showProgress(p *engine.Progress) (stop func()) {
	tty := isTerminal(a.stderr)
	every := 10 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	log := a.logger()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		start := time.Now()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				if tty {
					fmt.Fprint(a.stderr, "\r\033[K")
				}
				return
			case <-t.C:
				a.progressTick(log, snap(p, time.Since(start)), tty)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// progressSnap is one reading of the counters.
type progressSnap struct {
	files, bytes, errors, reused uint64
	expFiles, expBytes           uint64
	elapsed                      time.Duration
}

func snap(p *engine.Progress, elapsed time.Duration) progressSnap {
	s := progressSnap{files: p.Files.Load(), bytes: p.Bytes.Load(), errors: p.Errors.Load(),
		reused: p.Reused.Load(), elapsed: elapsed, expFiles: p.ExpectedFiles.Load(), expBytes: p.ExpectedBytes.Load()}
	return s
}

// rate is in MB/s (10^6 bytes).
func (s progressSnap) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.bytes) / s.elapsed.Seconds() / 1e6
}

// eta is the estimated time left, false when unknown.
func (s progressSnap) eta() (time.Duration, bool) {
	if s.expBytes == 0 || s.bytes == 0 {
		return 0, false
	}
	if s.bytes >= s.expBytes {
		return 0, true
	}
	left := float64(s.expBytes-s.bytes) / float64(s.bytes) * float64(s.elapsed)
	return time.Duration(left).Round(time.Second), true
}

func (a *app) progressTick(log *slog.Logger, s progressSnap, tty bool) {
	eta, known := s.eta()
	if tty {
		line := fmt.Sprintf("%d files, %s, %.1f MB/s, %d errors", s.files, humanBytes(s.bytes), s.rate(), s.errors)
		if known {
			line += fmt.Sprintf(", %d%%, ETA %s", min(100, s.bytes*100/s.expBytes), eta)
		}
		fmt.Fprintf(a.stderr, "\r\033[K%s", line)
		return
	}
	args := []any{"files", s.files, "bytes", s.bytes, "unchanged", s.reused, "errors", s.errors,
		"rate_mb_s", fmt.Sprintf("%.1f", s.rate())}
	if known {
		args = append(args, "eta", eta.String())
	}
	log.Info("ingest progress", args...)
}
