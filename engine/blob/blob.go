// Package blob owns the names of content in a repository: the keyed content
// id of a blob and the kinds of blob (file data, tree nodes). It is the
// vocabulary shared by packs, the index and trees.
package blob

import (
	"encoding/hex"
	"fmt"
)

// ID is the keyed MAC of a blob's plaintext: storage never learns content.
type ID [32]byte

// String is the 64-character lowercase hex form.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short is the 12-character prefix used in names shown to people.
func (id ID) Short() string { return id.String()[:12] }

// IsZero reports whether id is the zero value (no blob).
func (id ID) IsZero() bool { return id == ID{} }

// ParseID parses a 64-character hex id.
func ParseID(s string) (ID, error) {
	var id ID
	if len(s) != 64 {
		return id, fmt.Errorf("blob: id %q: want 64 hex characters", s)
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return id, fmt.Errorf("blob: id %q: %w", s, err)
	}
	return id, nil
}

// Type is the kind of a blob; data and tree blobs go to separate packs so
// that tree packs stay small and cheap to cache.
type Type uint8

const (
	Data Type = 1 // a chunk of file content
	Tree Type = 2 // a tree node (directory listing) or another metadata blob
)

func (t Type) String() string {
	switch t {
	case Data:
		return "data"
	case Tree:
		return "tree"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t == Data || t == Tree }

// Handle locates a blob inside a pack.
type Handle struct {
	ID     ID
	Type   Type
	Pack   ID     // pack name
	Offset uint32 // of the sealed blob in the pack
	Length uint32 // of the sealed blob
	Raw    uint32 // plaintext length
}

// MarshalText encodes the id as hex (JSON strings).
func (id ID) MarshalText() ([]byte, error) { return []byte(id.String()), nil }

// UnmarshalText parses a hex id.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := ParseID(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}
