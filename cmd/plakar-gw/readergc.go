package main

import (
	"os"
	"runtime/debug"
)

// Commands that mostly read (serve, mount, cat, restore) keep a small live
// heap while turning over the buffers of random reads and listings; the
// main's GOGC=50 (right for ingest, which recycles its buffers) ran the
// collector too often for them. readerGC gives them Go's default target
// under a soft memory limit. Measured on the idle 2-core machine, with the
// engine's recycled read buffers: a 1 GiB GET through the S3 frontend at
// 1.35 GB/s, a PROPFIND of 100,000 entries growing the server by 51 MB,
// 64 clients downloading at once 258 MB peak RSS. (GOGC=400 before the
// buffers were recycled: 1.2 GB/s, but that PROPFIND grew the server by
// 132 MB, over the WebDAV issue's 64 MB.)
const readerGCPercent = 100

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
