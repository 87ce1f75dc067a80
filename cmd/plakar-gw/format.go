package main

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const timeLayout = "2006-01-02 15:04:05"

// humanBytes formats n in IEC units: "512 B", "1.5 KiB", "3.2 GiB".
func humanBytes[T int64 | uint64 | int](n T) string {
	v := float64(n)
	if v < 1024 {
		return fmt.Sprintf("%d B", int64(n))
	}
	for _, unit := range []string{"KiB", "MiB", "GiB", "TiB", "PiB"} {
		v /= 1024
		if v < 1024 {
			return fmt.Sprintf("%.1f %s", v, unit)
		}
	}
	return fmt.Sprintf("%.1f EiB", v/1024)
}

// modeString is mode the way ls shows it: "drwxr-sr-x", "-rwsr-xr-x", "lrwxrwxrwx".
func modeString(m fs.FileMode) string {
	b := []byte("?rwxrwxrwx")
	b[0] = typeChar(m)
	for i := 0; i < 9; i++ {
		if m&(1<<(8-i)) == 0 {
			b[i+1] = '-'
		}
	}
	special := func(set bool, i int, on, off byte) {
		if set {
			if b[i] == '-' {
				b[i] = off
			} else {
				b[i] = on
			}
		}
	}
	special(m&fs.ModeSetuid != 0, 3, 's', 'S')
	special(m&fs.ModeSetgid != 0, 6, 's', 'S')
	special(m&fs.ModeSticky != 0, 9, 't', 'T')
	return string(b)
}

func typeChar(m fs.FileMode) byte {
	switch {
	case m.IsDir():
		return 'd'
	case m&fs.ModeSymlink != 0:
		return 'l'
	case m&fs.ModeNamedPipe != 0:
		return 'p'
	case m&fs.ModeSocket != 0:
		return 's'
	case m&fs.ModeCharDevice != 0:
		return 'c'
	case m&fs.ModeDevice != 0:
		return 'b'
	case m.IsRegular():
		return '-'
	}
	return '?'
}

// typeName names an entry type in JSON output.
func typeName(m fs.FileMode) string {
	switch typeChar(m) {
	case 'd':
		return "dir"
	case 'l':
		return "symlink"
	case 'p':
		return "fifo"
	case 's':
		return "socket"
	case 'c':
		return "chardevice"
	case 'b':
		return "device"
	case '-':
		return "file"
	}
	return "other"
}

// countsJSON is vfs.Counts for JSON output.
type countsJSON struct {
	Files       uint64     `json:"files"`
	Dirs        uint64     `json:"dirs"`
	Symlinks    uint64     `json:"symlinks"`
	Others      uint64     `json:"others"`
	Bytes       uint64     `json:"bytes"`
	Errors      uint64     `json:"errors"`
	OldestMtime *time.Time `json:"oldest_mtime,omitempty"`
	NewestMtime *time.Time `json:"newest_mtime,omitempty"`
	LargestFile string     `json:"largest_file,omitempty"`
	LargestSize int64      `json:"largest_size,omitempty"`
}

type summaryJSON struct {
	Self    countsJSON `json:"self"`
	Subtree countsJSON `json:"subtree"`
}

func toSummaryJSON(s vfs.Summary) summaryJSON {
	return summaryJSON{Self: toCountsJSON(s.Self), Subtree: toCountsJSON(s.Subtree)}
}

func toCountsJSON(c vfs.Counts) countsJSON {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	return countsJSON{Files: c.Files, Dirs: c.Dirs, Symlinks: c.Symlinks, Others: c.Others, Bytes: c.Bytes,
		Errors: c.Errors, OldestMtime: opt(c.OldestMtime), NewestMtime: opt(c.NewestMtime),
		LargestFile: c.LargestFile, LargestSize: c.LargestSize}
}
