// Package index owns the index delta format: the list of blobs that one
// ingest (or one gc compaction) added, grouped by pack. Deltas are written
// once and never changed; readers merge them (see package cache). A delta may
// name older deltas it supersedes, so that gc can compact the index by writing
// one new delta before deleting the old ones, and a crash in between leaves
// duplicates, never a gap.
package index

import (
	"fmt"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/pack"
)

// Delta is the content of one index object.
type Delta struct {
	Supersedes []string // names of index objects whose content this one includes
	Packs      []Pack
}

// Pack lists the blobs of one pack.
type Pack struct {
	ID    blob.ID
	Blobs []pack.Entry
}

// Len is the number of blobs in the delta.
func (d *Delta) Len() int {
	n := 0
	for _, p := range d.Packs {
		n += len(p.Blobs)
	}
	return n
}

const ad = "plakar-gw index v1"

// Encode returns the plaintext of d.
func Encode(d *Delta) []byte {
	e := codec.Encoder{B: make([]byte, 0, 64+d.Len()*45)}
	e.Byte(1)
	e.Uvarint(uint64(len(d.Supersedes)))
	for _, s := range d.Supersedes {
		e.String(s)
	}
	e.Uvarint(uint64(len(d.Packs)))
	for _, p := range d.Packs {
		e.Fixed(p.ID[:])
		e.Uvarint(uint64(len(p.Blobs)))
		for _, x := range p.Blobs {
			e.Byte(byte(x.Type))
			e.Fixed(x.ID[:])
			e.Uvarint(uint64(x.Offset))
			e.Uvarint(uint64(x.Length))
			e.Uvarint(uint64(x.Raw))
		}
	}
	return e.B
}

// Decode parses a plaintext made by Encode.
func Decode(b []byte) (*Delta, error) {
	d := codec.NewDecoder(b)
	if v := d.Byte(); v != 1 && d.Err() == nil {
		d.Fail("index version %d", v)
	}
	out := &Delta{}
	for i, n := 0, d.Count(1); i < n && d.Err() == nil; i++ {
		out.Supersedes = append(out.Supersedes, d.String())
	}
	for i, n := 0, d.Count(33); i < n && d.Err() == nil; i++ {
		var p Pack
		d.Fixed(p.ID[:])
		m := d.Count(36)
		p.Blobs = make([]pack.Entry, 0, m)
		for j := 0; j < m && d.Err() == nil; j++ {
			var x pack.Entry
			x.Type = blob.Type(d.Byte())
			d.Fixed(x.ID[:])
			x.Offset, x.Length, x.Raw = d.Uint32(), d.Uint32(), d.Uint32()
			if d.Err() == nil && !x.Type.Valid() {
				d.Fail("blob type %d", x.Type)
			}
			p.Blobs = append(p.Blobs, x)
		}
		out.Packs = append(out.Packs, p)
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("index delta: %w", err)
	}
	return out, nil
}

// Seal encodes and encrypts d for storage.
func Seal(key *crypto.Key, d *Delta) []byte { return key.Seal(nil, Encode(d), []byte(ad)) }

// Open decrypts and decodes a stored delta.
func Open(key *crypto.Key, sealed []byte) (*Delta, error) {
	plain, err := key.Open(nil, sealed, []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("index delta: %w", err)
	}
	return Decode(plain)
}
