// Package importers owns the contract between a data source and the engine:
// the Importer interface, the Record it yields, and (in importertest) the
// conformance suite that every importer passes. Implementations live in
// sub-packages, one source each; nothing here reads any source itself.
package importers

import (
	"context"
	"io"
	"io/fs"
	"iter"
	"time"
)

// Importer reads one source tree. Scan and Open may be called concurrently:
// the engine opens several files while the scan goes on.
type Importer interface {
	// Type is the importer's kind: "fs", "ftp", "s3", or a plugin's name.
	Type() string
	// Origin names the source for humans, e.g. "/home/me" or "ftp://host/dir".
	// It never contains secrets.
	Origin() string
	// Scan yields every entry of the source. Paths are absolute within the
	// source ("/", "/a", "/a/b"), cleaned, '/'-separated, and a directory is
	// yielded before anything inside it. The root "/" is yielded first.
	// A path that cannot be read is yielded as a Record with Err set and the
	// scan goes on; a non-nil error in the second value ends the scan.
	Scan(ctx context.Context) iter.Seq2[Record, error]
	// Open returns the content of the regular file at path (as yielded by Scan).
	Open(ctx context.Context, path string) (io.ReadCloser, error)
	// Close releases connections and other resources.
	Close() error
}

// Record is one entry of a source tree.
type Record struct {
	Path    string      // absolute, cleaned, '/'-separated; "/" is the root
	Mode    fs.FileMode // type bits and permissions, as io/fs defines them
	Size    int64       // bytes of a regular file; 0 otherwise
	ModTime time.Time
	Target  string // symlink target, as stored (not followed)

	UID, GID   uint32
	User       string // owner name, when the source knows it
	Group      string
	Dev, Inode uint64 // identity for hardlink detection; zero when unknown
	Nlink      uint32 // hardlink count; zero when unknown
	Rdev       uint64 // device number of block/char devices
	Xattrs     []Xattr

	// Err is set when the path could not be read (permission, vanished,
	// timeout). Path is set; the other fields hold what is known.
	Err error
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// Prefetcher is an Importer that can start fetching a file before Open, so
// that many small files do not each wait out a full read latency in turn.
// The engine calls Prefetch as it queues a file for its readers, a bounded
// distance ahead of them. It must return quickly and may do nothing; errors
// are left for Open to report.
type Prefetcher interface {
	Prefetch(path string, size int64)
}
