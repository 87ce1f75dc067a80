// Package snapshot owns the snapshot header: what a snapshot is (time, host,
// importer, origin, job, tags, root tree, totals, per-path errors), its
// canonical bytes, its id (a keyed MAC of those bytes) and the sealed object
// stored under that id. Signatures (added later, without changing the id)
// travel in the same object beside the canonical header bytes.
package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Version is the header format version.
const Version = 1

// Header describes one snapshot. Its canonical bytes are its JSON encoding
// (struct field order is fixed; there are no maps).
type Header struct {
	Version  int         `json:"version"`
	Time     time.Time   `json:"time"`
	Hostname string      `json:"hostname"`
	Username string      `json:"username,omitempty"`
	Importer string      `json:"importer"`
	Origin   string      `json:"origin"`
	Job      string      `json:"job,omitempty"`
	Tags     []string    `json:"tags,omitempty"`
	Root     blob.ID     `json:"root"` // root directory node
	RootInfo RootInfo    `json:"root_info"`
	Summary  vfs.Summary `json:"summary"` // of the root directory
	Errors   []ErrorPage `json:"errors,omitempty"`
	Complete bool        `json:"complete"`         // no per-path errors were recorded
	Signer   string      `json:"signer,omitempty"` // key id of the ingest's signing key
	Stats    Stats       `json:"stats"`
}

// RootInfo keeps the metadata of the ingested root directory itself.
type RootInfo struct {
	Mode    fs.FileMode `json:"mode"`
	ModTime time.Time   `json:"mtime"`
	UID     uint32      `json:"uid"`
	GID     uint32      `json:"gid"`
}

// ErrorPage points to one blob of per-path errors; pages are in path order.
type ErrorPage struct {
	First string  `json:"first"` // path of the first error in the page
	ID    blob.ID `json:"id"`
	Count int     `json:"count"`
}

// Stats says what the ingest cost the repository.
type Stats struct {
	Files       uint64  `json:"files"`
	Bytes       uint64  `json:"bytes"`        // logical bytes read
	BlobsAdded  uint64  `json:"blobs_added"`  // new blobs stored
	StoredAdded uint64  `json:"stored_added"` // bytes written to packs, sealed
	Duration    float64 `json:"duration_seconds"`
}

// Signature is an ed25519 signature over the canonical header bytes.
type Signature struct {
	KeyID     string `json:"key_id"`
	PublicKey []byte `json:"public_key"`
	Sig       []byte `json:"sig"`
}

// Snapshot is a header with its id and signatures.
type Snapshot struct {
	ID         blob.ID
	Header     Header
	Canonical  []byte // the exact bytes the id and signatures cover
	Signatures []Signature
}

type envelope struct {
	Header     json.RawMessage `json:"header"`
	Signatures []Signature     `json:"signatures,omitempty"`
}

const idPrefix = "plakar-gw snapshot v1\x00"
const sealAD = "plakar-gw snapshot v1"

// New computes the canonical bytes and id of h.
func New(key *crypto.Key, h Header) (*Snapshot, error) {
	h.Version = Version
	h.Time = h.Time.UTC()
	canon, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	return &Snapshot{ID: idOf(key, canon), Header: h, Canonical: canon}, nil
}

func idOf(key *crypto.Key, canon []byte) blob.ID {
	return blob.ID(key.Sum(append([]byte(idPrefix), canon...)))
}

// Seal returns the object stored under the snapshot's id.
func Seal(key *crypto.Key, s *Snapshot) ([]byte, error) {
	b, err := json.Marshal(envelope{Header: s.Canonical, Signatures: s.Signatures})
	if err != nil {
		return nil, err
	}
	return key.Seal(nil, b, []byte(sealAD)), nil
}

// Open authenticates a stored snapshot object and checks that its header
// matches the name it was stored under.
func Open(key *crypto.Key, name string, sealed []byte) (*Snapshot, error) {
	want, err := blob.ParseID(name)
	if err != nil {
		return nil, err
	}
	plain, err := key.Open(nil, sealed, []byte(sealAD))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", name, err)
	}
	return Decode(key, want, plain)
}

// Decode parses an envelope plaintext and verifies the id.
func Decode(key *crypto.Key, want blob.ID, plain []byte) (*Snapshot, error) {
	var env envelope
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("snapshot %s: %v: %w", want, err, vfs.ErrCorrupt)
	}
	if dec.More() {
		return nil, fmt.Errorf("snapshot %s: trailing bytes after the envelope: %w", want, vfs.ErrCorrupt)
	}
	if idOf(key, env.Header) != want {
		return nil, fmt.Errorf("snapshot %s: header does not match its id: %w", want, vfs.ErrCorrupt)
	}
	s := &Snapshot{ID: want, Canonical: []byte(env.Header), Signatures: env.Signatures}
	if err := json.Unmarshal(env.Header, &s.Header); err != nil {
		return nil, fmt.Errorf("snapshot %s: header: %v: %w", want, err, vfs.ErrCorrupt)
	}
	if s.Header.Version != Version {
		return nil, fmt.Errorf("snapshot %s: unsupported version %d", want, s.Header.Version)
	}
	return s, nil
}
