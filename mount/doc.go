// Package mount owns the FUSE frontend: every snapshot of a vfs.Catalog
// shown read-only as a directory tree (hanwen/go-fuse/v2). The root lists
// snap-<12 hex> directories and <job>-latest symlinks and follows the
// catalog as snapshots come and go; inside a snapshot, entries carry their
// recorded modes, sizes, nanosecond mtimes, owners, link counts, symlink
// targets and extended attributes. Contents never change, so the kernel is
// told to cache pages, entries and attributes for long; every write fails
// with EROFS and a failed integrity check is EIO, never bytes.
package mount
