package index

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/pack"
)

func testKey(t testing.TB) *crypto.Key {
	t.Helper()
	k, err := crypto.FromMaster(bytes.Repeat([]byte{5}, crypto.MasterSize), crypto.DefaultCipher)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleDelta() *Delta {
	d := &Delta{Supersedes: []string{"aa", "bb", ""}}
	for p := 0; p < 4; p++ {
		var dp Pack
		dp.ID[0] = byte(p)
		dp.Blobs = []pack.Entry{}
		for i := 0; i < p*3; i++ {
			e := pack.Entry{Type: blob.Type(1 + i%2), Offset: uint32(i * 100), Length: 50 + uint32(i), Raw: 1<<32 - 1}
			e.ID[1], e.ID[2] = byte(p), byte(i)
			dp.Blobs = append(dp.Blobs, e)
		}
		d.Packs = append(d.Packs, dp)
	}
	return d
}

func TestRoundTrip(t *testing.T) {
	for _, d := range []*Delta{{}, sampleDelta()} {
		enc := Encode(d)
		got, err := Decode(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("got %+v\nwant %+v", got, d)
		}
		if got.Len() != d.Len() {
			t.Fatalf("Len %d, want %d", got.Len(), d.Len())
		}
		for n := 0; n < len(enc); n++ {
			if _, err := Decode(enc[:n]); !errors.Is(err, codec.ErrFormat) {
				t.Fatalf("truncated to %d: %v", n, err)
			}
		}
		if _, err := Decode(append(bytes.Clone(enc), 0)); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
	if n := sampleDelta().Len(); n != 0+3+6+9 {
		t.Fatalf("Len %d", n)
	}
}

func TestSealOpen(t *testing.T) {
	k := testKey(t)
	d := sampleDelta()
	sealed := Seal(k, d)
	got, err := Open(k, sealed)
	if err != nil || !reflect.DeepEqual(got, d) {
		t.Fatalf("open: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := Open(k, sealed); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("flipped: %v", err)
	}
	// An index delta does not open as a pack footer, nor the reverse.
	footer := k.Seal(nil, pack.EncodeFooter(nil), []byte("plakar-gw pack footer v1"))
	if _, err := Open(k, footer); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("footer opened as index: %v", err)
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := Encode(sampleDelta())
	bad := bytes.Clone(enc)
	bad[0] = 2
	if _, err := Decode(bad); err == nil {
		t.Fatal("version 2 accepted")
	}
	d := sampleDelta()
	d.Packs[1].Blobs[0].Type = 7
	if _, err := Decode(Encode(d)); !errors.Is(err, codec.ErrFormat) {
		t.Fatalf("blob type 7: %v", err)
	}
	for _, b := range [][]byte{
		{1, 0xff, 0xff, 0xff, 0xff, 0x0f},                                      // supersedes count
		{1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f},                                   // pack count
		append(append([]byte{1, 0, 1}, make([]byte, 32)...), 0xff, 0xff, 0x03), // blob count
	} {
		if _, err := Decode(b); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("%x: %v", b, err)
		}
	}
}

func FuzzIndexDecode(f *testing.F) {
	enc := Encode(sampleDelta())
	f.Add(enc)
	f.Add(Encode(&Delta{}))
	f.Add(Encode(&Delta{Supersedes: []string{"x"}}))
	f.Add(enc[:len(enc)-3])
	for _, i := range []int{0, 2, 10, 40} {
		b := bytes.Clone(enc)
		b[i] ^= 0x41
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := Decode(b)
		if err != nil {
			if !errors.Is(err, codec.ErrFormat) {
				t.Fatalf("error %v does not wrap codec.ErrFormat", err)
			}
			return
		}
		again, err := Decode(Encode(d))
		if err != nil {
			t.Fatalf("re-encoded delta fails: %v", err)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("round trip differs:\n%+v\n%+v", d, again)
		}
	})
}
