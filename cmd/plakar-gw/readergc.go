package main

import (
	"os"
	"runtime/debug"
)

// Commands that mostly read (serve, mount, cat, restore) allocate a fresh
// buffer for every chunk they decrypt, about one byte of garbage per byte
// served, while their live heap stays small. Under main's GOGC=50 (right
// for ingest, which recycles its buffers) the collector then runs dozens
// of times a second. readerGC trades that for a larger heap target bounded
// by a soft memory limit: measured on the idle 2-core machine, a 1 GiB GET
// through the S3 frontend went from 1.0 to 1.2 GB/s (curl), and 64
// clients downloading at once stayed at 228 MB peak RSS.
const readerGCPercent = 400

// readerGC applies the reading commands' collector settings, unless GOGC or
// GOMEMLIMIT say otherwise.
func readerGC(limit int64) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(readerGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

// serveMemoryLimit is serve's soft Go memory limit, unless GOMEMLIMIT sets
// one; the bound is 300 MB of RSS with 64 downloads at once.
const serveMemoryLimit = 200 << 20

// readMemoryLimit is the soft Go memory limit of mount, cat and restore,
// unless GOMEMLIMIT sets one: their live heap is a few tens of MB.
const readMemoryLimit = 150 << 20
