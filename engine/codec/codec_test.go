package codec

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var e Encoder
	id := bytes.Repeat([]byte{0xab}, 32)
	e.Uvarint(0)
	e.Uvarint(math.MaxUint64)
	e.Varint(math.MinInt64)
	e.Varint(-1)
	e.Byte(7)
	e.Fixed(id)
	e.String("héllo")
	e.BytesLP([]byte{0, 1, 2})
	e.BytesLP(nil)
	e.Uvarint(1<<32 - 1)
	e.Uvarint(3) // a count of 3 one-byte elements
	e.Fixed([]byte{1, 2, 3})

	d := NewDecoder(e.B)
	if v := d.Uvarint(); v != 0 {
		t.Fatalf("uvarint %d", v)
	}
	if v := d.Uvarint(); v != math.MaxUint64 {
		t.Fatalf("uvarint %d", v)
	}
	if v := d.Varint(); v != math.MinInt64 {
		t.Fatalf("varint %d", v)
	}
	if v := d.Varint(); v != -1 {
		t.Fatalf("varint %d", v)
	}
	if v := d.Byte(); v != 7 {
		t.Fatalf("byte %d", v)
	}
	got := make([]byte, 32)
	d.Fixed(got)
	if !bytes.Equal(got, id) {
		t.Fatalf("fixed %x", got)
	}
	if s := d.String(); s != "héllo" {
		t.Fatalf("string %q", s)
	}
	if b := d.BytesLP(); !bytes.Equal(b, []byte{0, 1, 2}) {
		t.Fatalf("bytes %v", b)
	}
	if b := d.BytesLP(); len(b) != 0 {
		t.Fatalf("empty bytes %v", b)
	}
	if v := d.Uint32(); v != 1<<32-1 {
		t.Fatalf("uint32 %d", v)
	}
	if n := d.Count(1); n != 3 {
		t.Fatalf("count %d", n)
	}
	d.Fixed(make([]byte, 3))
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
}

// BytesLP returns a copy: changing the input afterwards changes nothing.
func TestBytesLPCopies(t *testing.T) {
	var e Encoder
	e.BytesLP([]byte("abc"))
	d := NewDecoder(e.B)
	b := d.BytesLP()
	e.B[1] = 'X'
	if string(b) != "abc" {
		t.Fatalf("BytesLP aliases its input: %q", b)
	}
}

func TestCountNeverOverAllocates(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    uint64
		rest int
		min  int
	}{
		{"huge", math.MaxUint64, 100, 1},
		{"int overflow", 1 << 63, 100, 36},
		{"just too many", 11, 10 * 36, 36}, // 11 elements of 36 bytes need 396
		{"min zero", 101, 100, 0},          // min < 1 counts as 1
		{"min negative", 101, 100, -5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e Encoder
			e.Uvarint(tc.v)
			e.Fixed(make([]byte, tc.rest))
			d := NewDecoder(e.B)
			if n := d.Count(tc.min); n != 0 {
				t.Fatalf("Count = %d, want 0", n)
			}
			if !errors.Is(d.Err(), ErrFormat) {
				t.Fatalf("err %v, want ErrFormat", d.Err())
			}
			if d.Len() != 0 {
				t.Fatalf("a failed decoder keeps %d bytes", d.Len())
			}
		})
	}
	// The boundary is allowed.
	var e Encoder
	e.Uvarint(10)
	e.Fixed(make([]byte, 360))
	if n := NewDecoder(e.B).Count(36); n != 10 {
		t.Fatalf("Count = %d, want 10", n)
	}
}

func TestErrorsStick(t *testing.T) {
	d := NewDecoder([]byte{0x80}) // truncated uvarint
	if v := d.Uvarint(); v != 0 || d.Err() == nil {
		t.Fatalf("uvarint %d err %v", v, d.Err())
	}
	first := d.Err()
	d.Fail("second")
	if d.Err() != first {
		t.Fatalf("error changed to %v", d.Err())
	}
	if d.Byte() != 0 || d.Varint() != 0 || d.Uint32() != 0 || d.String() != "" || d.BytesLP() != nil || d.Count(1) != 0 {
		t.Fatal("reads after an error return non-zero values")
	}
	buf := []byte{9, 9}
	d.Fixed(buf)
	if buf[0] != 9 {
		t.Fatal("Fixed wrote after an error")
	}
	if d.End() != first {
		t.Fatal("End lost the first error")
	}
}

func TestMalformed(t *testing.T) {
	overflow := bytes.Repeat([]byte{0xff}, 10)
	overflow = append(overflow, 1)
	for _, tc := range []struct {
		name string
		in   []byte
		read func(d *Decoder)
	}{
		{"empty byte", nil, func(d *Decoder) { d.Byte() }},
		{"empty uvarint", nil, func(d *Decoder) { d.Uvarint() }},
		{"uvarint overflow", overflow, func(d *Decoder) { d.Uvarint() }},
		{"varint overflow", overflow, func(d *Decoder) { d.Varint() }},
		{"uint32 too big", []byte{0x80, 0x80, 0x80, 0x80, 0x10}, func(d *Decoder) { d.Uint32() }},
		{"fixed short", []byte{1, 2}, func(d *Decoder) { d.Fixed(make([]byte, 3)) }},
		{"bytes too long", []byte{5, 1, 2}, func(d *Decoder) { d.BytesLP() }},
		{"bytes huge", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, func(d *Decoder) { d.BytesLP() }},
		{"trailing", []byte{1, 2}, func(d *Decoder) { d.Byte() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDecoder(tc.in)
			tc.read(d)
			if err := d.End(); !errors.Is(err, ErrFormat) {
				t.Fatalf("err %v, want ErrFormat", err)
			}
		})
	}
}

// FuzzDecoder reads arbitrary bytes through every method, driven by the
// input itself, and checks the decoder's promises: no panic, no read past
// the input, and errors stick.
func FuzzDecoder(f *testing.F) {
	var e Encoder
	e.Uvarint(3)
	e.String("abc")
	e.Varint(-5)
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6}, e.B)
	f.Add([]byte{6, 6, 6}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, ops, in []byte) {
		d := NewDecoder(in)
		var failed error
		for _, op := range ops {
			before := d.Len()
			switch op % 8 {
			case 0:
				d.Uvarint()
			case 1:
				d.Varint()
			case 2:
				d.Uint32()
			case 3:
				if n := d.Count(int(op/8) % 40); n > before {
					t.Fatalf("Count %d with %d bytes left", n, before)
				}
			case 4:
				d.Byte()
			case 5:
				d.Fixed(make([]byte, int(op/8)))
			case 6:
				if b := d.BytesLP(); len(b) > before {
					t.Fatalf("BytesLP of %d with %d bytes left", len(b), before)
				}
			case 7:
				_ = d.String()
			}
			if d.Len() > before {
				t.Fatal("Len grew")
			}
			if failed != nil && d.Err() != failed {
				t.Fatal("error changed")
			}
			if failed == nil && d.Err() != nil {
				failed = d.Err()
				if !errors.Is(failed, ErrFormat) {
					t.Fatalf("error %v does not wrap ErrFormat", failed)
				}
			}
		}
		d.End()
	})
}
