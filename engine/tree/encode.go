package tree

import (
	"fmt"
	"io/fs"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const (
	nodeLeaf  = 'L'
	nodeInner = 'I'
)

// Node is one node of a directory's B-tree: a leaf holds entries, an inner
// node holds children that each cover a key range starting at First.
type Node struct {
	Entries  []Entry // leaf
	Children []Child // inner
}

// Child points to a subtree of a directory's B-tree.
type Child struct {
	First string // key of the first entry below this child
	ID    blob.ID
	Count uint64 // entries below this child
}

// IsLeaf reports whether n holds entries.
func (n *Node) IsLeaf() bool { return n.Children == nil }

// Encode returns the plaintext of a node.
func Encode(n *Node) []byte {
	var e codec.Encoder
	if n.IsLeaf() {
		e.Byte(nodeLeaf)
		e.Uvarint(uint64(len(n.Entries)))
		for i := range n.Entries {
			encodeEntry(&e, &n.Entries[i])
		}
		return e.B
	}
	e.Byte(nodeInner)
	e.Uvarint(uint64(len(n.Children)))
	for _, c := range n.Children {
		e.String(c.First)
		e.Fixed(c.ID[:])
		e.Uvarint(c.Count)
	}
	return e.B
}

func encodeEntry(e *codec.Encoder, x *Entry) {
	e.String(x.Name)
	e.Uvarint(uint64(x.Mode))
	e.Varint(x.ModTime)
	e.Uvarint(uint64(x.UID))
	e.Uvarint(uint64(x.GID))
	e.String(x.User)
	e.String(x.Group)
	e.Uvarint(uint64(x.Inode))
	e.Uvarint(uint64(x.Nlink))
	e.Uvarint(uint64(len(x.Xattrs)))
	for _, a := range x.Xattrs {
		e.String(a.Name)
		e.BytesLP(a.Value)
	}
	switch {
	case x.Mode.IsRegular():
		e.Uvarint(uint64(x.Size))
		e.Fixed(x.Content[:])
		e.Uvarint(uint64(len(x.Chunks)))
		for _, c := range x.Chunks {
			e.Fixed(c.ID[:])
			e.Uvarint(uint64(c.Size))
		}
	case x.Mode.IsDir():
		e.Fixed(x.Subtree[:])
		encodeCounts(e, &x.Summary.Self)
		encodeCounts(e, &x.Summary.Subtree)
	case x.Mode&fs.ModeSymlink != 0:
		e.String(x.Target)
	default:
		e.Uvarint(x.Rdev)
	}
}

func encodeCounts(e *codec.Encoder, c *vfs.Counts) {
	for _, v := range []uint64{c.Files, c.Dirs, c.Symlinks, c.Others, c.Bytes, c.Errors} {
		e.Uvarint(v)
	}
	e.Varint(nanos(c.OldestMtime))
	e.Varint(nanos(c.NewestMtime))
	e.String(c.LargestFile)
	e.Varint(c.LargestSize)
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Decode parses a node plaintext. It checks the invariants readers rely on:
// keys strictly increasing, valid names, counts in range.
func Decode(b []byte) (*Node, error) {
	d := codec.NewDecoder(b)
	n := &Node{}
	switch d.Byte() {
	case nodeLeaf:
		cnt := d.Count(12) // an entry encodes to at least 12 bytes
		n.Entries = make([]Entry, cnt)
		for i := 0; i < cnt && d.Err() == nil; i++ {
			decodeEntry(d, &n.Entries[i])
			if i > 0 && d.Err() == nil && n.Entries[i-1].Key() >= n.Entries[i].Key() {
				d.Fail("entries out of order at %d", i)
			}
		}
	case nodeInner:
		cnt := d.Count(34)
		if cnt == 0 && d.Err() == nil {
			d.Fail("empty inner node")
		}
		n.Children = make([]Child, cnt)
		for i := 0; i < cnt && d.Err() == nil; i++ {
			c := &n.Children[i]
			c.First = d.String()
			d.Fixed(c.ID[:])
			c.Count = d.Uvarint()
			if i > 0 && d.Err() == nil && n.Children[i-1].First >= c.First {
				d.Fail("children out of order at %d", i)
			}
		}
	default:
		d.Fail("unknown node type")
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("tree node: %w", err)
	}
	return n, nil
}

func decodeEntry(d *codec.Decoder, x *Entry) {
	x.Name = d.String()
	x.Mode = fs.FileMode(d.Uint32())
	x.ModTime = d.Varint()
	x.UID, x.GID = d.Uint32(), d.Uint32()
	x.User, x.Group = d.String(), d.String()
	x.Inode, x.Nlink = d.Uvarint(), d.Uint32()
	if n := d.Count(2); n > 0 {
		x.Xattrs = make([]Xattr, n)
		for i := range x.Xattrs {
			x.Xattrs[i] = Xattr{Name: d.String(), Value: d.BytesLP()}
		}
	}
	if d.Err() == nil && !ValidName(x.Name) {
		d.Fail("invalid entry name %q", x.Name)
	}
	switch {
	case x.Mode.IsRegular():
		size := d.Uvarint()
		d.Fixed(x.Content[:])
		n := d.Count(33)
		x.Chunks = make([]Chunk, n)
		var sum uint64
		for i := range x.Chunks {
			d.Fixed(x.Chunks[i].ID[:])
			x.Chunks[i].Size = d.Uint32()
			sum += uint64(x.Chunks[i].Size)
		}
		if d.Err() == nil && (sum != size || size > 1<<62) {
			d.Fail("entry %q: chunk sizes add to %d, size is %d", x.Name, sum, size)
		}
		x.Size = int64(size)
	case x.Mode.IsDir():
		d.Fixed(x.Subtree[:])
		decodeCounts(d, &x.Summary.Self)
		decodeCounts(d, &x.Summary.Subtree)
	case x.Mode&fs.ModeSymlink != 0:
		x.Target = d.String()
	default:
		x.Rdev = d.Uvarint()
	}
}

func decodeCounts(d *codec.Decoder, c *vfs.Counts) {
	for _, p := range []*uint64{&c.Files, &c.Dirs, &c.Symlinks, &c.Others, &c.Bytes, &c.Errors} {
		*p = d.Uvarint()
	}
	c.OldestMtime = fromNanos(d.Varint())
	c.NewestMtime = fromNanos(d.Varint())
	c.LargestFile = d.String()
	c.LargestSize = d.Varint()
}

// ValidName reports whether name can be an entry: not empty, not "." or
// "..", no "/" and no NUL.
func ValidName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for i := 0; i < len(name); i++ {
		if name[i] == '/' || name[i] == 0 {
			return false
		}
	}
	return true
}
