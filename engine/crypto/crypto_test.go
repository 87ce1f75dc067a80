package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// cheapKDF keeps tests fast; the parameters are the smallest derive accepts.
func cheapKDF() KDF {
	return KDF{Algorithm: "argon2id", Time: 1, MemoryKiB: 8, Threads: 1, Salt: []byte("saltsaltsalt")}
}

func testKey(t testing.TB) *Key {
	t.Helper()
	k, err := FromMaster(bytes.Repeat([]byte{7}, MasterSize), DefaultCipher)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWrapUnwrap(t *testing.T) {
	master := NewMaster()
	p := cheapKDF()
	ad := []byte("config v1")
	wrapped, err := Wrap(master, []byte("right"), p, ad)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(wrapped, []byte("right"), p, ad)
	if err != nil || !bytes.Equal(got, master) {
		t.Fatalf("unwrap: %x, %v", got, err)
	}
	if _, err := Unwrap(wrapped, []byte("wrong"), p, ad); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Unwrap(wrapped, []byte("right"), p, []byte("config v2")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("altered config: %v", err)
	}
	other := p
	other.Salt = []byte("othersaltxx")
	if _, err := Unwrap(wrapped, []byte("right"), other, ad); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("altered salt: %v", err)
	}
	flipped := bytes.Clone(wrapped)
	flipped[len(flipped)-1] ^= 1
	if _, err := Unwrap(flipped, []byte("right"), p, ad); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("flipped byte: %v", err)
	}
	if _, err := Unwrap(wrapped[:20], []byte("right"), p, ad); err == nil {
		t.Fatal("truncated wrapped key accepted")
	}
	// Random nonces: wrapping twice gives different bytes.
	again, _ := Wrap(master, []byte("right"), p, ad)
	if bytes.Equal(again, wrapped) {
		t.Fatal("two wraps are identical")
	}
}

func TestKDFParametersChecked(t *testing.T) {
	for name, mutate := range map[string]func(*KDF){
		"algorithm":  func(p *KDF) { p.Algorithm = "scrypt" },
		"time zero":  func(p *KDF) { p.Time = 0 },
		"time huge":  func(p *KDF) { p.Time = 101 },
		"memory low": func(p *KDF) { p.MemoryKiB = 7 },
		"memory big": func(p *KDF) { p.MemoryKiB = 4<<20 + 1 },
		"threads":    func(p *KDF) { p.Threads = 0 },
		"salt":       func(p *KDF) { p.Salt = []byte("short") },
	} {
		t.Run(name, func(t *testing.T) {
			p := cheapKDF()
			mutate(&p)
			if _, err := Wrap(NewMaster(), []byte("x"), p, nil); err == nil {
				t.Fatal("Wrap accepted bad parameters")
			}
			if _, err := Unwrap(make([]byte, 100), []byte("x"), p, nil); err == nil || errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Unwrap: %v, want a parameter error", err)
			}
		})
	}
	p := DefaultKDF()
	if p.Algorithm != "argon2id" || len(p.Salt) < 8 || p.MemoryKiB > 128*1024 {
		t.Fatalf("default KDF %+v", p)
	}
}

func TestSealOpen(t *testing.T) {
	for _, c := range []Cipher{XAES256GCM, XChaCha20Poly1305} {
		t.Run(string(c), func(t *testing.T) { testSealOpen(t, c) })
	}
}

func testSealOpen(t *testing.T, c Cipher) {
	k, err := FromMaster(bytes.Repeat([]byte{7}, MasterSize), c)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("attack at dawn")
	sealed := k.Seal([]byte("prefix"), plain, []byte("ad1"))
	if !bytes.HasPrefix(sealed, []byte("prefix")) || len(sealed) != len("prefix")+len(plain)+Overhead {
		t.Fatalf("sealed length %d", len(sealed))
	}
	sealed = sealed[len("prefix"):]
	got, err := k.Open(nil, sealed, []byte("ad1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q, %v", got, err)
	}
	if _, err := k.Open(nil, sealed, []byte("ad2")); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong AD: %v", err)
	}
	for i := range sealed {
		bad := bytes.Clone(sealed)
		bad[i] ^= 0x80
		if _, err := k.Open(nil, bad, []byte("ad1")); !errors.Is(err, ErrAuth) {
			t.Fatalf("flip at %d: %v", i, err)
		}
	}
	for n := 0; n < Overhead; n++ {
		if _, err := k.Open(nil, sealed[:n], []byte("ad1")); !errors.Is(err, ErrAuth) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	other, _ := FromMaster(bytes.Repeat([]byte{8}, MasterSize), c)
	if _, err := other.Open(nil, sealed, []byte("ad1")); !errors.Is(err, ErrAuth) {
		t.Fatalf("wrong key: %v", err)
	}
	// The same master under the other cipher opens nothing.
	otherCipher := XChaCha20Poly1305
	if c == XChaCha20Poly1305 {
		otherCipher = XAES256GCM
	}
	same, _ := FromMaster(bytes.Repeat([]byte{7}, MasterSize), otherCipher)
	if _, err := same.Open(nil, sealed, []byte("ad1")); !errors.Is(err, ErrAuth) {
		t.Fatalf("other cipher: %v", err)
	}
	// In place, as pack.OpenBlobInPlace does it.
	inPlace := bytes.Clone(sealed)
	if got, err := k.Open(inPlace[NonceSize:NonceSize], inPlace, []byte("ad1")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open in place: %q, %v", got, err)
	}
	empty := k.Seal(nil, nil, nil)
	if got, err := k.Open(nil, empty, nil); err != nil || len(got) != 0 {
		t.Fatalf("empty plaintext: %q, %v", got, err)
	}
}

// TestXAESVectors checks XAES-256-GCM against the vectors of its
// specification (c2sp.org/XAES-256-GCM).
func TestXAESVectors(t *testing.T) {
	for _, v := range []struct{ key, plain, ad, want string }{
		{strings.Repeat("01", 32), "XAES-256-GCM", "", "ce546ef63c9cc60765923609b33a9a1974e96e52daf2fcf7075e2271"},
		{strings.Repeat("03", 32), "XAES-256-GCM", "c2sp.org/XAES-256-GCM", "986ec1832593df5443a179437fd083bf3fdb41abd740a21f71eb769d"},
	} {
		key, _ := hex.DecodeString(v.key)
		x, err := newXAES(key)
		if err != nil {
			t.Fatal(err)
		}
		nonce := []byte("ABCDEFGHIJKLMNOPQRSTUVWX")
		got := x.Seal(nil, nonce, []byte(v.plain), []byte(v.ad))
		if hex.EncodeToString(got) != v.want {
			t.Fatalf("key %s…: sealed %x, want %s", v.key[:4], got, v.want)
		}
		plain, err := x.Open(nil, nonce, got, []byte(v.ad))
		if err != nil || string(plain) != v.plain {
			t.Fatalf("open: %q, %v", plain, err)
		}
	}
}

func TestParseCipher(t *testing.T) {
	for name, want := range map[string]Cipher{"": XChaCha20Poly1305, "xchacha20-poly1305": XChaCha20Poly1305, "xaes-256-gcm": XAES256GCM} {
		if got, err := ParseCipher(name); err != nil || got != want {
			t.Errorf("ParseCipher(%q) = %q, %v", name, got, err)
		}
	}
	if _, err := ParseCipher("rot13"); err == nil {
		t.Error("unknown cipher accepted")
	}
	if _, err := FromMaster(bytes.Repeat([]byte{7}, MasterSize), "rot13"); err == nil {
		t.Error("FromMaster accepted an unknown cipher")
	}
}

func TestSubkeys(t *testing.T) {
	if _, err := FromMaster(make([]byte, 31), DefaultCipher); err == nil {
		t.Fatal("short master accepted")
	}
	k := testKey(t)
	k2 := testKey(t)
	other, _ := FromMaster(bytes.Repeat([]byte{8}, MasterSize), DefaultCipher)
	if k.Sum([]byte("x")) != k2.Sum([]byte("x")) {
		t.Fatal("Sum is not deterministic")
	}
	if k.Sum([]byte("x")) == other.Sum([]byte("x")) || k.Sum([]byte("x")) == k.Sum([]byte("y")) {
		t.Fatal("Sum collides")
	}
	if bytes.Equal(k.ChunkerKey(), other.ChunkerKey()) || bytes.Equal(k.ChunkerKey(), k.Master()) {
		t.Fatal("chunker key not derived")
	}
	m := k.Master()
	m[0] ^= 1
	if bytes.Equal(m, k.Master()) {
		t.Fatal("Master returns the internal slice")
	}
	if len(NewMaster()) != MasterSize || bytes.Equal(NewMaster(), NewMaster()) {
		t.Fatal("NewMaster")
	}
}

// FuzzOpen: arbitrary bytes never open under a real key, and never panic.
func FuzzOpen(f *testing.F) {
	k := testKey(f)
	f.Add(k.Seal(nil, []byte("hello"), []byte("ad")), []byte("ad"))
	f.Add([]byte{}, []byte{})
	f.Add(make([]byte, Overhead), []byte("ad"))
	f.Fuzz(func(t *testing.T, sealed, ad []byte) {
		plain, err := k.Open(nil, sealed, ad)
		if err == nil {
			// Only a real seal opens: the seed.
			if string(plain) != "hello" || string(ad) != "ad" {
				t.Fatalf("forged open: %q", plain)
			}
			return
		}
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("error %v does not wrap ErrAuth", err)
		}
	})
}
