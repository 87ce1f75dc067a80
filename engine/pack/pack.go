// Package pack owns the packfile format: many sealed blobs in one object
// followed by a sealed footer that lists them, so that one ranged read fetches
// one blob and a lost index can be rebuilt from the packs alone. It also owns
// the sealing of a single blob (zstd when it helps, then AEAD bound to the
// blob's id and type). It knows nothing of storage.
package pack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
)

// maxBlobSize bounds what a length read from the index may make us allocate
// up front; chunks are at most a few MiB.
const maxBlobSize = 64 << 20

// TargetSize is the size at which a pack is closed and uploaded.
const TargetSize = 16 << 20

// Magic ends every pack, after the footer length.
var Magic = [4]byte{'P', 'G', 'W', 'p'}

// TrailerSize is the fixed tail: footer length (uint32 LE) then Magic.
const TrailerSize = 8

// ErrCorrupt reports a pack or blob that fails a check.
var ErrCorrupt = errors.New("pack: corrupt")

const (
	flagRaw  = 0
	flagZstd = 1
	flagS2   = 2
)

// Compression selects how SealBlob compresses; it is a repository setting.
// Any repository reads blobs of every kind: the choice is recorded per blob.
type Compression uint8

const (
	Zstd Compression = iota // zstd, fastest level: best ratio
	S2                      // S2 (Snapshot-compatible LZ): ~2x faster, ~1.4x larger on text
	None                    // store as is
)

// ParseCompression maps a config value to a Compression.
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "", "zstd":
		return Zstd, nil
	case "s2":
		return S2, nil
	case "none":
		return None, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want zstd, s2 or none)", s)
}

var (
	// No zstd checksum: the AEAD already authenticates every byte.
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithLowerEncoderMem(true), zstd.WithEncoderCRC(false))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
)

func blobAD(t blob.Type, id blob.ID, flag byte) []byte {
	ad := make([]byte, 0, 34)
	ad = append(ad, byte(t))
	ad = append(ad, id[:]...)
	return append(ad, flag)
}

// scratch holds compression output between calls, so sealing a blob
// allocates nothing in the steady state.
var scratch = sync.Pool{New: func() any { return new([]byte) }}

// SealBlob compresses plain with c when that saves at least 1/32 of it,
// then seals it bound to (t, id, encoding), appending
// flag||nonce||ciphertext||tag to dst. The encoding flag stays outside the
// ciphertext so that incompressible data is encrypted in place, without a
// copy; the AEAD still covers it.
func SealBlob(key *crypto.Key, dst []byte, c Compression, t blob.Type, id blob.ID, plain []byte) []byte {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	flag, payload := byte(flagRaw), plain
	switch c {
	case Zstd:
		*bp = encoder.EncodeAll(plain, (*bp)[:0])
		flag = flagZstd
	case S2:
		if n := s2.MaxEncodedLen(len(plain)); cap(*bp) < n {
			*bp = make([]byte, n)
		}
		*bp = s2.Encode((*bp)[:cap(*bp)], plain)
		flag = flagS2
	}
	if flag != flagRaw {
		payload = *bp
		if len(payload) > len(plain)-len(plain)/32 {
			flag, payload = flagRaw, plain
		}
	}
	dst = append(dst, flag)
	return key.Seal(dst, payload, blobAD(t, id, flag))
}

// probeSize is how much of a blob Incompressible compresses.
const probeSize = 16 << 10

// Incompressible reports whether a sample from the middle of plain fails
// to compress with c by SealBlob's margin. Trying a whole chunk of random
// bytes costs a tenth of sealing it (zstd's attempt and its copies); the
// sample costs a thirtieth of that. The writer asks only for chunks of a
// stream whose previous chunk did not compress, so text never pays for it.
func Incompressible(c Compression, plain []byte) bool {
	if c == None || len(plain) < 4*probeSize {
		return c == None
	}
	mid := len(plain) / 2
	sample := plain[mid-probeSize/2 : mid+probeSize/2]
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	var n int
	switch c {
	case Zstd:
		*bp = encoder.EncodeAll(sample, (*bp)[:0])
		n = len(*bp)
	case S2:
		if m := s2.MaxEncodedLen(len(sample)); cap(*bp) < m {
			*bp = make([]byte, m)
		}
		n = len(s2.Encode((*bp)[:cap(*bp)], sample))
	}
	return n > len(sample)-len(sample)/32
}

// StoredRaw reports whether a blob sealed by SealBlob (its output from
// where it started appending) holds its plaintext uncompressed.
func StoredRaw(sealed []byte) bool { return len(sealed) > 0 && sealed[0] == flagRaw }

// SealedSize is the size of SealBlob's output for n bytes stored raw.
func SealedSize(n int) int { return 1 + n + crypto.Overhead }

// OpenBlob authenticates, decrypts and decompresses a sealed blob and checks
// that its content id is h.ID; any mismatch wraps ErrCorrupt.
func OpenBlob(key *crypto.Key, h blob.Handle, sealed []byte) ([]byte, error) {
	return openBlob(key, h, sealed, nil, nil)
}

// OpenBlobInPlace is OpenBlob decrypting into sealed's own memory, which
// it overwrites: a raw blob's plaintext then costs no second buffer (and
// no zeroing of one), which is most of a chunk read's allocations. For
// callers that drop sealed afterwards.
func OpenBlobInPlace(key *crypto.Key, h blob.Handle, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+crypto.NonceSize {
		return OpenBlob(key, h, sealed)
	}
	return openBlob(key, h, sealed, sealed[1+crypto.NonceSize:1+crypto.NonceSize], nil)
}

// CheckBlobInPlace is OpenBlobInPlace for a caller that only needs to know
// that the blob is sound (check --read-data): a compressed blob's
// plaintext goes to *scratch, kept for the next call, instead of a new
// buffer per blob.
func CheckBlobInPlace(key *crypto.Key, h blob.Handle, sealed []byte, scratch *[]byte) error {
	if len(sealed) < 1+crypto.NonceSize {
		_, err := OpenBlob(key, h, sealed)
		return err
	}
	plain, err := openBlob(key, h, sealed, sealed[1+crypto.NonceSize:1+crypto.NonceSize], (*scratch)[:0])
	// A raw blob's plaintext is sealed's own memory: never the scratch.
	if err == nil && sealed[0] != flagRaw && cap(plain) > cap(*scratch) {
		*scratch = plain[:0]
	}
	return err
}

// openBlob decrypts sealed into dst; a compressed blob's plaintext goes to
// unz when it has room (nil: a new buffer).
func openBlob(key *crypto.Key, h blob.Handle, sealed, dst, unz []byte) ([]byte, error) {
	if len(sealed) < 1 {
		return nil, fmt.Errorf("%s blob %s: empty: %w", h.Type, h.ID, ErrCorrupt)
	}
	flag := sealed[0]
	buf, err := key.Open(dst, sealed[1:], blobAD(h.Type, h.ID, flag))
	if err != nil {
		return nil, fmt.Errorf("%s blob %s: %w", h.Type, h.ID, ErrCorrupt)
	}
	var plain []byte
	switch flag {
	case flagRaw:
		plain = buf
	case flagZstd:
		if unz == nil {
			unz = make([]byte, 0, min(h.Raw, maxBlobSize))
		}
		plain, err = decoder.DecodeAll(buf, unz[:0])
		if err != nil {
			return nil, fmt.Errorf("%s blob %s: decompress: %v: %w", h.Type, h.ID, err, ErrCorrupt)
		}
	case flagS2:
		if n, derr := s2.DecodedLen(buf); derr != nil || n > maxBlobSize {
			return nil, fmt.Errorf("%s blob %s: s2 length: %w", h.Type, h.ID, ErrCorrupt)
		}
		plain, err = s2.Decode(unz[:cap(unz)], buf)
		if err != nil {
			return nil, fmt.Errorf("%s blob %s: decompress: %v: %w", h.Type, h.ID, err, ErrCorrupt)
		}
	default:
		return nil, fmt.Errorf("%s blob %s: unknown encoding %d: %w", h.Type, h.ID, flag, ErrCorrupt)
	}
	if blob.ID(key.Sum(plain)) != h.ID {
		return nil, fmt.Errorf("%s blob %s: content does not match its id: %w", h.Type, h.ID, ErrCorrupt)
	}
	return plain, nil
}

// Entry describes one blob of a pack.
type Entry struct {
	Type   blob.Type
	ID     blob.ID
	Offset uint32
	Length uint32 // sealed length
	Raw    uint32 // plaintext length
}

// Tail returns what ends a pack holding entries: the sealed footer and the
// trailer. A writer that streams blobs appends it last.
func Tail(key *crypto.Key, entries []Entry) []byte {
	footer := key.Seal(nil, EncodeFooter(entries), []byte(footerAD))
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	return append(footer, Magic[:]...)
}

const footerAD = "plakar-gw pack footer v1"

// EncodeFooter is the plaintext of a footer.
func EncodeFooter(entries []Entry) []byte {
	e := codec.Encoder{B: make([]byte, 0, len(entries)*45+8)}
	e.Byte(1) // version
	e.Uvarint(uint64(len(entries)))
	for _, x := range entries {
		e.Byte(byte(x.Type))
		e.Fixed(x.ID[:])
		e.Uvarint(uint64(x.Offset))
		e.Uvarint(uint64(x.Length))
		e.Uvarint(uint64(x.Raw))
	}
	return e.B
}

// DecodeFooter parses a footer plaintext; every entry must lie within
// dataSize bytes (the pack size less footer and trailer).
func DecodeFooter(b []byte, dataSize int64) ([]Entry, error) {
	d := codec.NewDecoder(b)
	if v := d.Byte(); v != 1 && d.Err() == nil {
		d.Fail("pack footer version %d", v)
	}
	n := d.Count(36)
	entries := make([]Entry, 0, n)
	for i := 0; i < n && d.Err() == nil; i++ {
		var x Entry
		x.Type = blob.Type(d.Byte())
		d.Fixed(x.ID[:])
		x.Offset, x.Length, x.Raw = d.Uint32(), d.Uint32(), d.Uint32()
		if d.Err() == nil && (!x.Type.Valid() || int64(x.Offset)+int64(x.Length) > dataSize || x.Length < crypto.Overhead+1) {
			d.Fail("pack footer entry %d out of range", i)
		}
		entries = append(entries, x)
	}
	if err := d.End(); err != nil {
		return nil, fmt.Errorf("%w: footer: %v", ErrCorrupt, err)
	}
	return entries, nil
}

// ParseTrailer reads the trailer (the last TrailerSize bytes of a pack of
// packSize bytes) and returns the footer's offset and length.
func ParseTrailer(trailer []byte, packSize int64) (off, length int64, err error) {
	if len(trailer) != TrailerSize || [4]byte(trailer[4:]) != Magic {
		return 0, 0, fmt.Errorf("%w: bad trailer", ErrCorrupt)
	}
	length = int64(binary.LittleEndian.Uint32(trailer))
	off = packSize - TrailerSize - length
	if length < crypto.Overhead || off < 0 {
		return 0, 0, fmt.Errorf("%w: footer length %d out of range", ErrCorrupt, length)
	}
	return off, length, nil
}

// OpenFooter authenticates and decodes a sealed footer.
func OpenFooter(key *crypto.Key, sealed []byte, dataSize int64) ([]Entry, error) {
	plain, err := key.Open(nil, sealed, []byte(footerAD))
	if err != nil {
		return nil, fmt.Errorf("%w: footer: %v", ErrCorrupt, err)
	}
	return DecodeFooter(plain, dataSize)
}
