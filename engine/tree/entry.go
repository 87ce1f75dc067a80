// Package tree owns the directory format of a snapshot: entries, their
// binary encoding, and directory nodes organised as a B-tree so that a
// directory of a million entries is never loaded whole. Entries of a
// directory are sorted in S3 key order (a directory sorts as "name/"), so that
// a depth-first walk yields keys exactly in the order ListObjectsV2 returns
// them. The package knows nothing of storage: nodes are read and written
// through the Loader and Saver functions.
package tree

import (
	"io/fs"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Entry is one item of a directory.
type Entry struct {
	Name    string
	Mode    fs.FileMode
	ModTime int64 // Unix nanoseconds
	UID     uint32
	GID     uint32
	User    string
	Group   string
	Size    int64  // regular files: content length
	Target  string // symlinks
	Inode   uint64 // hardlink group within the snapshot (0: none)
	Nlink   uint32
	Rdev    uint64
	Xattrs  []Xattr

	Content blob.ID // regular files: MAC over the chunk ids, the file's ETag
	Chunks  []Chunk // regular files

	Subtree blob.ID     // directories: root node of the directory
	Summary vfs.Summary // directories: self and subtree counts
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// Chunk is one piece of a file's content.
type Chunk struct {
	ID   blob.ID
	Size uint32
}

// Key is the entry's S3 key component: its name, with "/" for a directory.
func (e *Entry) Key() string {
	if e.Mode.IsDir() {
		return e.Name + "/"
	}
	return e.Name
}

// Time returns the modification time.
func (e *Entry) Time() time.Time { return time.Unix(0, e.ModTime) }

// IsRegular reports whether e is a regular file.
func (e *Entry) IsRegular() bool { return e.Mode.IsRegular() }
