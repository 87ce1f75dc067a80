// Package vfs is the one read interface every frontend (S3, WebDAV, FUSE, web
// UI) uses to see snapshots. It is standard library only: frontends import
// this package and nothing of the engine, and the engine's repository
// implements Catalog. Errors crossing this boundary are *fs.PathError values
// wrapping fs.ErrNotExist, fs.ErrPermission, fs.ErrInvalid, ErrCorrupt or a
// context error; each frontend maps them once, at its edge.
package vfs

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"iter"
	"time"
)

// ErrCorrupt reports data that failed an integrity check (a MAC, a
// decryption, a decoder). A frontend must answer it with an error, never with
// the bytes it could not verify.
var ErrCorrupt = errors.New("integrity check failed")

// Catalog lists snapshots and opens them.
type Catalog interface {
	// Snapshots returns every visible snapshot, newest first.
	Snapshots(ctx context.Context) ([]SnapshotInfo, error)
	// OpenSnapshot opens a snapshot by id, unique id prefix (at least 8 hex
	// characters), or alias.
	OpenSnapshot(ctx context.Context, name string) (FS, error)
}

// SnapshotInfo is what a frontend needs to name and describe a snapshot.
type SnapshotInfo struct {
	ID       string // 64 hex characters
	Time     time.Time
	Job      string
	Tags     []string
	Hostname string
	Importer string // importer type
	Origin   string
	Summary  Summary // of the root, subtree totals included
	Signed   string  // signature status for humans: "unsigned", "signed by KEYID", "invalid"
	Complete bool    // false when some paths could not be read at ingest
	Ingest   IngestStats
}

// IngestStats say what making the snapshot cost.
type IngestStats struct {
	StoredAdded uint64        // new bytes written to the repository (after dedup and compression)
	BlobsAdded  uint64        // new chunks and trees stored
	Duration    time.Duration // wall time of the ingest
}

// ShortID is the 12-hex prefix used in bucket and folder names.
func (s SnapshotInfo) ShortID() string {
	if len(s.ID) < 12 {
		return s.ID
	}
	return s.ID[:12]
}

// FS is one snapshot's tree. Paths are io/fs paths ("." is the root, no
// leading slash). Every implementation passes testing/fstest.TestFS.
type FS interface {
	fs.StatFS
	fs.ReadDirFS
	fs.ReadLinkFS
	// WithContext returns a view whose storage reads stop when ctx is done.
	WithContext(ctx context.Context) fs.FS
	// Summary returns the per-directory summary of dir.
	Summary(dir string) (Summary, error)
	// Errors yields the errors recorded at ingest at or under dir, in path order.
	Errors(dir string) iter.Seq2[PathError, error]
	// Walk yields every entry of the snapshot whose key sorts strictly after
	// after, in S3 key order: keys are paths without a leading slash, a
	// directory's key ends in "/" and comes right before its contents, and
	// keys compare as byte strings. Seeking to after costs a few node reads,
	// not a scan from the start. The root itself is not yielded. A bound
	// "dir/\xff…" is past all of dir's subtree (no UTF-8 name starts with
	// byte 0xFF; a name that does, not being UTF-8, is skipped by it).
	Walk(ctx context.Context, after string) iter.Seq2[Entry, error]
}

// File is what Open returns for a regular file; directories implement
// fs.ReadDirFile instead. It is ready for http.ServeContent.
type File interface {
	fs.File
	io.ReaderAt
	io.Seeker
}

// RangeWriter is an optional File method for streaming: it writes the n
// bytes at off to w from the file's own buffers, sparing the copy a Read
// makes into the caller's. w must not keep the slices it is given (as
// io.Writer says). A short range (the file ends first) is
// io.ErrUnexpectedEOF; a failed read stops before any wrong byte.
type RangeWriter interface {
	WriteRangeTo(w io.Writer, off, n int64) (int64, error)
}

// Entry is one item of a Walk.
type Entry struct {
	Key     string // S3 key: path without leading slash, "dir/" for directories
	Mode    fs.FileMode
	Size    int64
	ModTime time.Time
	Target  string // symlink target
	ETag    string // hex content id of a regular file; empty otherwise
	UID     uint32
	GID     uint32
	// Files counts the regular files anywhere under a directory (its
	// subtree summary), so that a listing knows a directory holds
	// something without walking into it; 0 for other entries, and a
	// Catalog that cannot tell may leave it 0.
	Files uint64
}

// IsDir reports whether the entry is a directory.
func (e Entry) IsDir() bool { return e.Mode.IsDir() }

// PathError is one error recorded at ingest.
type PathError struct {
	Path    string // absolute within the snapshot, "/a/b"
	Message string
}

// Summary describes a directory: itself (direct children) and its whole subtree.
type Summary struct {
	Self    Counts
	Subtree Counts
}

// Counts are totals over a set of entries.
type Counts struct {
	Files       uint64
	Dirs        uint64
	Symlinks    uint64
	Others      uint64
	Bytes       uint64 // logical bytes of regular files
	Errors      uint64
	OldestMtime time.Time
	NewestMtime time.Time
	LargestFile string // path of the largest regular file
	LargestSize int64
}

// Sys is what an fs.FileInfo's Sys() returns for entries of a snapshot.
type Sys struct {
	UID, GID uint32
	User     string
	Group    string
	Nlink    uint32
	Inode    uint64 // identity of hardlinked files within the snapshot; 0 when unknown
	Rdev     uint64
	Xattrs   map[string][]byte
	ETag     string // hex content id of a regular file
}
