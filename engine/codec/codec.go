// Package codec owns the byte-level encoding shared by every binary object of
// the repository format (pack footers, index deltas, tree nodes): unsigned and
// signed varints, length-prefixed bytes, fixed ids. The Decoder never panics
// and never allocates more than its input could justify: every length is
// checked against the bytes that remain, and the first error sticks.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrFormat reports bytes that do not decode.
var ErrFormat = errors.New("malformed encoding")

// Encoder appends to a byte slice.
type Encoder struct{ B []byte }

func (e *Encoder) Uvarint(v uint64)  { e.B = binary.AppendUvarint(e.B, v) }
func (e *Encoder) Varint(v int64)    { e.B = binary.AppendVarint(e.B, v) }
func (e *Encoder) Byte(v byte)       { e.B = append(e.B, v) }
func (e *Encoder) Fixed(b []byte)    { e.B = append(e.B, b...) }
func (e *Encoder) String(s string)   { e.Uvarint(uint64(len(s))); e.B = append(e.B, s...) }
func (e *Encoder) BytesLP(b []byte)  { e.Uvarint(uint64(len(b))); e.B = append(e.B, b...) }
func (e *Encoder) Uint32LE(v uint32) { e.B = binary.LittleEndian.AppendUint32(e.B, v) }

// Decoder reads what an Encoder wrote. After the first error every read
// returns a zero value and Err reports the error.
type Decoder struct {
	b   []byte
	err error
}

// NewDecoder decodes b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Err is the first error met, wrapping ErrFormat.
func (d *Decoder) Err() error { return d.err }

// Len is the number of bytes not yet read.
func (d *Decoder) Len() int { return len(d.b) }

// Fail records an error found by the caller (a value out of range).
func (d *Decoder) Fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrFormat)
	}
	d.b = nil
}

func (d *Decoder) Uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.Fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *Decoder) Varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// Uint32 reads a uvarint that must fit in 32 bits.
func (d *Decoder) Uint32() uint32 {
	v := d.Uvarint()
	if v > 1<<32-1 {
		d.Fail("value %d does not fit 32 bits", v)
		return 0
	}
	return uint32(v)
}

// Count reads an element count and checks that at least min bytes per
// element remain, so a corrupt count cannot make the caller allocate much.
func (d *Decoder) Count(min int) int {
	v := d.Uvarint()
	if min < 1 {
		min = 1
	}
	if v > uint64(len(d.b)/min) {
		d.Fail("count %d exceeds remaining %d bytes", v, len(d.b))
		return 0
	}
	return int(v)
}

func (d *Decoder) Byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 1 {
		d.Fail("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

// Fixed reads exactly len(dst) bytes into dst.
func (d *Decoder) Fixed(dst []byte) {
	if d.err != nil {
		return
	}
	if len(d.b) < len(dst) {
		d.Fail("truncated")
		return
	}
	copy(dst, d.b)
	d.b = d.b[len(dst):]
}

// BytesLP reads a length-prefixed byte slice (a copy).
func (d *Decoder) BytesLP() []byte {
	n := d.Uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.Fail("length %d exceeds remaining %d bytes", n, len(d.b))
		return nil
	}
	out := append([]byte(nil), d.b[:n]...)
	d.b = d.b[n:]
	return out
}

func (d *Decoder) String() string { return string(d.BytesLP()) }

// End fails unless every byte was consumed.
func (d *Decoder) End() error {
	if d.err == nil && len(d.b) != 0 {
		d.Fail("%d trailing bytes", len(d.b))
	}
	return d.err
}
