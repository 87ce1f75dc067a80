package pack

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
)

func testKey(t testing.TB) *crypto.Key {
	t.Helper()
	k, err := crypto.FromMaster(bytes.Repeat([]byte{3}, crypto.MasterSize), crypto.DefaultCipher)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

func handle(k *crypto.Key, t blob.Type, plain []byte) blob.Handle {
	return blob.Handle{ID: blob.ID(k.Sum(plain)), Type: t, Raw: uint32(len(plain))}
}

func TestSealOpenBlob(t *testing.T) {
	k := testKey(t)
	for name, plain := range map[string][]byte{
		"empty":        {},
		"small":        []byte("hello"),
		"compressible": []byte(strings.Repeat("abcdefgh", 10000)),
		"random":       randBytes(1, 100000),
	} {
		t.Run(name, func(t *testing.T) {
			h := handle(k, blob.Data, plain)
			sealed := SealBlob(k, nil, Zstd, h.Type, h.ID, plain)
			if name == "compressible" && len(sealed) > len(plain)/10 {
				t.Fatalf("not compressed: %d bytes", len(sealed))
			}
			if name == "random" && len(sealed) != len(plain)+1+crypto.Overhead {
				t.Fatalf("random data stored in %d bytes, want raw", len(sealed))
			}
			got, err := OpenBlob(k, h, sealed)
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("open: %d bytes, %v", len(got), err)
			}
			// Bound to type and id.
			wrongType := h
			wrongType.Type = blob.Tree
			if _, err := OpenBlob(k, wrongType, sealed); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("wrong type: %v", err)
			}
			wrongID := h
			wrongID.ID[0] ^= 1
			if _, err := OpenBlob(k, wrongID, sealed); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("wrong id: %v", err)
			}
			bad := bytes.Clone(sealed)
			bad[len(bad)/2] ^= 4
			if _, err := OpenBlob(k, h, bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("flipped: %v", err)
			}
		})
	}
}

// A blob sealed under the right (type, id) but whose content does not hash
// to id (a buggy or malicious writer) is refused, and so are unknown
// encodings and corrupt zstd frames.
func TestOpenBlobChecksContent(t *testing.T) {
	k := testKey(t)
	var id blob.ID
	id[0] = 1
	h := blob.Handle{ID: id, Type: blob.Data, Raw: 5}
	for name, inner := range map[string][]byte{
		"wrong content":    append([]byte{flagRaw}, "hello"...),
		"unknown encoding": append([]byte{9}, "hello"...),
		"bad zstd":         append([]byte{flagZstd}, "not zstd at all"...),
		"no payload":       {flagRaw},
	} {
		sealed := k.Seal([]byte{inner[0]}, inner[1:], blobAD(h.Type, h.ID, inner[0]))
		if _, err := OpenBlob(k, h, sealed); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func sampleEntries() []Entry {
	var out []Entry
	off := uint32(0)
	for i := 0; i < 50; i++ {
		e := Entry{Type: blob.Type(1 + i%2), Offset: off, Length: uint32(1 + crypto.Overhead + i*7), Raw: uint32(i * 100)}
		e.ID[0], e.ID[31] = byte(i), byte(i*3)
		off += e.Length
		out = append(out, e)
	}
	return out
}

func TestBuilderAndFooter(t *testing.T) {
	k := testKey(t)
	b := &builder{}
	var plains [][]byte
	for i := 0; i < 20; i++ {
		plain := randBytes(uint64(i), i*1000)
		if i%3 == 0 {
			plain = bytes.Repeat([]byte{byte(i)}, i*1000)
		}
		plains = append(plains, plain)
		typ := blob.Type(1 + i%2)
		id := blob.ID(k.Sum(plain))
		b.Add(typ, id, SealBlob(k, nil, Zstd, typ, id, plain), len(plain))
	}
	if b.Len() != 20 {
		t.Fatalf("Len %d", b.Len())
	}
	dataSize := int64(b.Size())
	p := b.Finish(k)

	off, length, err := ParseTrailer(p[len(p)-TrailerSize:], int64(len(p)))
	if err != nil {
		t.Fatal(err)
	}
	if off != dataSize {
		t.Fatalf("footer at %d, data is %d bytes", off, dataSize)
	}
	entries, err := OpenFooter(k, p[off:off+length], off)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(entries, b.Entries()) {
		t.Fatal("footer entries differ from the builder's")
	}
	for i, e := range entries {
		h := blob.Handle{ID: e.ID, Type: e.Type, Offset: e.Offset, Length: e.Length, Raw: e.Raw}
		got, err := OpenBlob(k, h, p[e.Offset:e.Offset+e.Length])
		if err != nil || !bytes.Equal(got, plains[i]) {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
	// The footer is bound to its AD and the data size.
	if _, err := OpenFooter(k, p[off:off+length], off-1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short data size: %v", err)
	}
	bad := bytes.Clone(p[off : off+length])
	bad[5] ^= 1
	if _, err := OpenFooter(k, bad, off); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("flipped footer: %v", err)
	}
}

func TestFooterRoundTrip(t *testing.T) {
	for _, entries := range [][]Entry{{}, sampleEntries()} {
		enc := EncodeFooter(entries)
		got, err := DecodeFooter(enc, 1<<40)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, entries) {
			t.Fatalf("got %+v", got)
		}
		for n := 0; n < len(enc); n++ {
			if _, err := DecodeFooter(enc[:n], 1<<40); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated to %d: %v", n, err)
			}
		}
		if _, err := DecodeFooter(append(bytes.Clone(enc), 0), 1<<40); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
}

func TestFooterRejects(t *testing.T) {
	base := sampleEntries()[:3]
	end := int64(base[2].Offset + base[2].Length)
	for name, mutate := range map[string]func([]Entry){
		"type zero":     func(e []Entry) { e[1].Type = 0 },
		"type unknown":  func(e []Entry) { e[1].Type = 3 },
		"past data":     func(e []Entry) { e[2].Length++ },
		"short sealed":  func(e []Entry) { e[0].Length = crypto.Overhead - 1 },
		"offset beyond": func(e []Entry) { e[0].Offset = uint32(end) },
	} {
		entries := append([]Entry(nil), base...)
		mutate(entries)
		if _, err := DecodeFooter(EncodeFooter(entries), end); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	enc := EncodeFooter(base)
	enc[0] = 2
	if _, err := DecodeFooter(enc, end); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("version 2: %v", err)
	}
	// A count far above what the bytes hold fails before allocating.
	huge := []byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if _, err := DecodeFooter(huge, end); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("huge count: %v", err)
	}
	// Offsets and lengths must fit 32 bits.
	tooBig := []byte{1, 1, byte(blob.Data)}
	tooBig = append(tooBig, make([]byte, 32)...)
	tooBig = binary.AppendUvarint(tooBig, 1<<32)
	tooBig = append(tooBig, 40, 0)
	if _, err := DecodeFooter(tooBig, 1<<40); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("33-bit offset: %v", err)
	}
}

func trailer(length uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, length)
	return append(b, Magic[:]...)
}

func TestParseTrailer(t *testing.T) {
	off, n, err := ParseTrailer(trailer(100), 1000)
	if err != nil || off != 1000-8-100 || n != 100 {
		t.Fatalf("got %d %d %v", off, n, err)
	}
	// A footer that fills the pack exactly.
	if off, _, err := ParseTrailer(trailer(100), 108); err != nil || off != 0 {
		t.Fatalf("exact: %d %v", off, err)
	}
	for name, tc := range map[string]struct {
		tr   []byte
		size int64
	}{
		"short":           {trailer(100)[:7], 1000},
		"long":            {append(trailer(100), 0), 1000},
		"empty":           {nil, 1000},
		"bad magic":       {append(trailer(100)[:4], 'P', 'G', 'W', 'x'), 1000},
		"footer too big":  {trailer(993), 1000},
		"footer too tiny": {trailer(crypto.Overhead - 1), 1000},
		"max uint32":      {trailer(1<<32 - 1), 1000},
		"negative size":   {trailer(100), -5},
	} {
		if _, _, err := ParseTrailer(tc.tr, tc.size); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func FuzzDecodeFooter(f *testing.F) {
	enc := EncodeFooter(sampleEntries())
	f.Add(enc, int64(1<<40))
	f.Add(EncodeFooter(sampleEntries()[:1]), int64(crypto.Overhead))
	f.Add(EncodeFooter(nil), int64(0))
	f.Add(enc[:len(enc)/2], int64(1<<40))
	flipped := bytes.Clone(enc)
	flipped[40] ^= 0x80
	f.Add(flipped, int64(1<<40))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}, int64(1<<40))
	f.Add([]byte{}, int64(-1))
	f.Fuzz(func(t *testing.T, b []byte, dataSize int64) {
		entries, err := DecodeFooter(b, dataSize)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		for _, e := range entries {
			if !e.Type.Valid() || int64(e.Offset)+int64(e.Length) > dataSize || e.Length < crypto.Overhead {
				t.Fatalf("accepted entry %+v out of %d bytes", e, dataSize)
			}
		}
		again, err := DecodeFooter(EncodeFooter(entries), dataSize)
		if err != nil {
			t.Fatalf("re-encoded footer fails: %v", err)
		}
		if len(again) != len(entries) || (len(entries) > 0 && !reflect.DeepEqual(again, entries)) {
			t.Fatalf("round trip differs:\n%+v\n%+v", entries, again)
		}
	})
}

func FuzzParseTrailer(f *testing.F) {
	f.Add(trailer(100), int64(1000))
	f.Add(trailer(100), int64(108))
	f.Add(trailer(1<<32-1), int64(1<<33))
	f.Add(trailer(0), int64(8))
	f.Add([]byte("PGWp"), int64(4))
	f.Fuzz(func(t *testing.T, tr []byte, packSize int64) {
		off, length, err := ParseTrailer(tr, packSize)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if len(tr) != TrailerSize || !bytes.Equal(tr[4:], Magic[:]) {
			t.Fatalf("accepted trailer %x", tr)
		}
		if off < 0 || length < crypto.Overhead || off+length+TrailerSize != packSize {
			t.Fatalf("off %d length %d in a pack of %d", off, length, packSize)
		}
	})
}

// FuzzOpenBlob feeds OpenBlob two kinds of input: arbitrary bytes as the
// sealed blob (they must fail authentication), and arbitrary bytes sealed
// with the real key as the inner plaintext (flag byte, then raw or zstd
// data), which reaches the decompressor and the content check. Neither may
// panic, and a success must return content whose id is the handle's.
func FuzzOpenBlob(f *testing.F) {
	k := testKey(f)
	plain := []byte(strings.Repeat("compress me ", 100))
	h := handle(k, blob.Data, plain)
	sealed := SealBlob(k, nil, Zstd, h.Type, h.ID, plain)
	payload, _ := k.Open(nil, sealed[1:], blobAD(h.Type, h.ID, sealed[0]))
	inner := append([]byte{sealed[0]}, payload...)
	f.Add(sealed, false, uint16(len(plain)))
	f.Add(sealed[:len(sealed)-1], false, uint16(len(plain)))
	f.Add(inner, true, uint16(len(plain)))
	f.Add(inner[:len(inner)/2], true, uint16(len(plain)))
	f.Add(append([]byte{flagRaw}, plain...), true, uint16(0))
	f.Add([]byte{2, 1, 2, 3}, true, uint16(3))
	f.Add([]byte{}, true, uint16(0))
	f.Fuzz(func(t *testing.T, b []byte, seal bool, raw uint16) {
		hh := blob.Handle{ID: h.ID, Type: blob.Data, Raw: uint32(raw)}
		if seal && len(b) > 0 {
			b = k.Seal([]byte{b[0]}, b[1:], blobAD(hh.Type, hh.ID, b[0]))
		}
		got, err := OpenBlob(k, hh, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		// Whatever opened (only a real seal can), its content is the one
		// the id names. (The seeds are sealed with a random nonce each run,
		// so comparing with them would not work.)
		if blob.ID(k.Sum(got)) != hh.ID || !bytes.Equal(got, plain) {
			t.Fatalf("opened %d bytes that do not match the id", len(got))
		}
	})
}

func TestSealBlobCompressions(t *testing.T) {
	k := testKey(t)
	text := []byte(strings.Repeat("all work and no play ", 5000))
	for _, c := range []Compression{Zstd, S2, None} {
		h := handle(k, blob.Data, text)
		sealed := SealBlob(k, nil, c, h.Type, h.ID, text)
		if (c == None) != (len(sealed) > len(text)) {
			t.Fatalf("compression %d: sealed %d bytes of %d", c, len(sealed), len(text))
		}
		got, err := OpenBlob(k, h, sealed)
		if err != nil || !bytes.Equal(got, text) {
			t.Fatalf("compression %d: %v", c, err)
		}
	}
}

// builder assembles a whole pack in memory, as the ingest's streaming
// writer does on the fly.
type builder struct {
	buf     []byte
	entries []Entry
}

func (b *builder) Add(t blob.Type, id blob.ID, sealed []byte, raw int) {
	b.entries = append(b.entries, Entry{Type: t, ID: id, Offset: uint32(len(b.buf)), Length: uint32(len(sealed)), Raw: uint32(raw)})
	b.buf = append(b.buf, sealed...)
}

func (b *builder) Size() int                     { return len(b.buf) }
func (b *builder) Len() int                      { return len(b.entries) }
func (b *builder) Entries() []Entry              { return b.entries }
func (b *builder) Finish(key *crypto.Key) []byte { return append(b.buf, Tail(key, b.entries)...) }

// TestOpenBlobInPlace: in-place opening gives the same plaintext for every
// encoding, and a damaged blob still fails.
func TestOpenBlobInPlace(t *testing.T) {
	key := testKey(t)
	for _, c := range []Compression{None, Zstd, S2} {
		for _, plain := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("compressible "), 5000), randBytes(1, 300<<10)} {
			id := blob.ID(key.Sum(plain))
			sealed := SealBlob(key, nil, c, blob.Data, id, plain)
			h := blob.Handle{ID: id, Type: blob.Data, Raw: uint32(len(plain))}
			got, err := OpenBlobInPlace(key, h, append([]byte(nil), sealed...))
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("%v %d bytes: %v", c, len(plain), err)
			}
			bad := append([]byte(nil), sealed...)
			bad[len(bad)/2] ^= 1
			if _, err := OpenBlobInPlace(key, h, bad); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%v: damaged blob opened: %v", c, err)
			}
		}
	}
}

// TestIncompressible: the probe tells random bytes from text for each
// compression, leaves small blobs to a full attempt, and StoredRaw reads
// what SealBlob chose.
func TestIncompressible(t *testing.T) {
	k := testKey(t)
	random := randBytes(9, 512<<10)
	text := []byte(strings.Repeat("all work and no play ", 25000))
	for _, c := range []Compression{Zstd, S2} {
		if !Incompressible(c, random) {
			t.Errorf("compression %d: random bytes probed compressible", c)
		}
		if Incompressible(c, text) {
			t.Errorf("compression %d: text probed incompressible", c)
		}
		if Incompressible(c, random[:32<<10]) {
			t.Errorf("compression %d: a blob under four samples is probed instead of tried whole", c)
		}
		h := handle(k, blob.Data, text)
		if StoredRaw(SealBlob(k, nil, c, h.Type, h.ID, text)) {
			t.Errorf("compression %d: text stored raw", c)
		}
		h = handle(k, blob.Data, random)
		if !StoredRaw(SealBlob(k, nil, c, h.Type, h.ID, random)) {
			t.Errorf("compression %d: random bytes stored compressed", c)
		}
	}
	if !Incompressible(None, text) {
		t.Error("with no compression everything is incompressible")
	}
}
