package sign

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/crypto"
)

func mustGenerate(t *testing.T) *PrivateKey {
	t.Helper()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestGenerate(t *testing.T) {
	a, b := mustGenerate(t), mustGenerate(t)
	if len(a.Public().Bytes()) != 32 || len(a.key.Seed()) != 32 {
		t.Fatalf("key sizes: public %d, seed %d", len(a.Public().Bytes()), len(a.key.Seed()))
	}
	if a.Public().Equal(b.Public()) || a.Public().ID() == b.Public().ID() {
		t.Fatal("two generated keys are equal")
	}
	id := a.Public().ID()
	if len(id) != 16 {
		t.Fatalf("id %q: want 16 hex characters", id)
	}
	if _, err := hex.DecodeString(id); err != nil {
		t.Fatalf("id %q is not hex", id)
	}
	if a.Public().ID() != id {
		t.Fatal("id not stable")
	}
	// Bytes returns a copy.
	p := a.Public().Bytes()
	p[0] ^= 0xff
	if !a.Public().Equal(a.Public()) || bytes.Equal(p, a.Public().Bytes()) {
		t.Fatal("Bytes aliases the key")
	}
}

func TestPublicTextRoundTrip(t *testing.T) {
	k := mustGenerate(t)
	s := k.Public().String()
	f := strings.Fields(s)
	if len(f) != 3 || f[0] != PublicPrefix || f[2] != k.Public().ID() {
		t.Fatalf("public text %q", s)
	}
	for _, in := range []string{s, "  " + s + "\n", f[0] + " " + f[1]} {
		p, err := ParsePublic(in)
		if err != nil {
			t.Fatalf("ParsePublic(%q): %v", in, err)
		}
		if !p.Equal(k.Public()) || p.ID() != k.Public().ID() {
			t.Fatalf("ParsePublic(%q) = another key", in)
		}
	}
	raw, err := PublicFromBytes(k.Public().Bytes())
	if err != nil || !raw.Equal(k.Public()) {
		t.Fatalf("PublicFromBytes: %v", err)
	}
}

func TestParsePublicRejects(t *testing.T) {
	k, other := mustGenerate(t), mustGenerate(t)
	b64 := base64.StdEncoding.EncodeToString(k.Public().Bytes())
	short := base64.StdEncoding.EncodeToString(k.Public().Bytes()[:31])
	long := base64.StdEncoding.EncodeToString(append(k.Public().Bytes(), 0))
	cases := map[string]string{
		"empty":        "",
		"prefix only":  PublicPrefix,
		"wrong prefix": "ssh-ed25519 " + b64 + " " + k.Public().ID(),
		"prefix case":  strings.ToUpper(PublicPrefix) + " " + b64,
		"bad base64":   PublicPrefix + " " + b64[:len(b64)-2] + "!!",
		"url base64":   PublicPrefix + " " + strings.NewReplacer("+", "-", "/", "_").Replace(b64) + "-_",
		"short key":    PublicPrefix + " " + short,
		"long key":     PublicPrefix + " " + long,
		"other id":     PublicPrefix + " " + b64 + " " + other.Public().ID(),
		"truncated id": PublicPrefix + " " + b64 + " " + k.Public().ID()[:15],
	}
	for name, in := range cases {
		p, err := ParsePublic(in)
		if err == nil {
			t.Errorf("%s: ParsePublic(%q) accepted (key %s)", name, in, p.ID())
			continue
		}
		if !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: error %v does not wrap ErrBadKey", name, err)
		}
	}
	if _, err := PublicFromBytes(make([]byte, 31)); !errors.Is(err, ErrBadKey) {
		t.Errorf("PublicFromBytes of 31 bytes: %v", err)
	}
}

func TestSignVerify(t *testing.T) {
	k, other := mustGenerate(t), mustGenerate(t)
	msg := []byte(`{"version":1,"root":"00"}`)
	sig := k.Sign(msg)
	if len(sig) != 64 {
		t.Fatalf("signature of %d bytes", len(sig))
	}
	if !k.Public().Verify(msg, sig) {
		t.Fatal("a valid signature does not verify")
	}
	if other.Public().Verify(msg, sig) {
		t.Fatal("another key verifies the signature")
	}
	bad := bytes.Clone(msg)
	bad[3] ^= 1
	if k.Public().Verify(bad, sig) {
		t.Fatal("a changed message verifies")
	}
	badSig := bytes.Clone(sig)
	badSig[10] ^= 1
	if k.Public().Verify(msg, badSig) {
		t.Fatal("a changed signature verifies")
	}
	if k.Public().Verify(msg, sig[:63]) || k.Public().Verify(msg, nil) {
		t.Fatal("a short signature verifies")
	}
	if (PublicKey{}).Verify(msg, sig) {
		t.Fatal("the zero public key verifies")
	}
}

func TestMarshalPlain(t *testing.T) {
	k := mustGenerate(t)
	b, err := k.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f["type"] != fileType || f["public"] != k.Public().String() || f["seed"] == nil || f["sealed_seed"] != nil {
		t.Fatalf("plain key file %s", b)
	}
	got, err := Unmarshal(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Public().Equal(k.Public()) || !bytes.Equal(got.key, k.key) {
		t.Fatal("round trip gives another key")
	}
	// A passphrase given for a plain file is not needed and does no harm.
	if _, err := Unmarshal(b, []byte("unused")); err != nil {
		t.Fatal(err)
	}
}

func TestMarshalSealed(t *testing.T) {
	k := mustGenerate(t)
	pp := []byte("sign me")
	b, err := k.Marshal(pp)
	if err != nil {
		t.Fatal(err)
	}
	seed := k.key.Seed()
	for _, enc := range []string{base64.StdEncoding.EncodeToString(seed), hex.EncodeToString(seed)} {
		if bytes.Contains(b, []byte(enc)) {
			t.Fatal("the sealed key file contains the seed")
		}
	}
	if bytes.Contains(b, seed) {
		t.Fatal("the sealed key file contains the raw seed")
	}
	var f map[string]any
	json.Unmarshal(b, &f)
	if f["seed"] != nil || f["sealed_seed"] == nil || f["kdf"] == nil {
		t.Fatalf("sealed key file %s", b)
	}
	got, err := Unmarshal(b, pp)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Public().Equal(k.Public()) || !bytes.Equal(got.key, k.key) {
		t.Fatal("round trip gives another key")
	}
	if _, err := Unmarshal(b, []byte("sign you")); !errors.Is(err, crypto.ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v, want crypto.ErrWrongPassphrase", err)
	}
	for _, none := range [][]byte{nil, {}} {
		if _, err := Unmarshal(b, none); !errors.Is(err, ErrNeedPassphrase) {
			t.Fatalf("no passphrase: %v, want ErrNeedPassphrase", err)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	k, other := mustGenerate(t), mustGenerate(t)
	pp := []byte("pp")
	edit := func(b []byte, field string, v any) []byte {
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		f[field] = v
		out, _ := json.Marshal(f)
		return out
	}
	plain, _ := k.Marshal(nil)
	sealed, _ := k.Marshal(pp)
	// The public key a file shows must be its private key's.
	if _, err := Unmarshal(edit(plain, "public", other.Public().String()), nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("plain file with another public key: %v", err)
	}
	// In a sealed file the public key is bound to the sealed seed too.
	if _, err := Unmarshal(edit(sealed, "public", other.Public().String()), pp); err == nil {
		t.Error("sealed file with another public key accepted")
	}
	if _, err := Unmarshal(edit(plain, "type", "something else"), nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("wrong type: %v", err)
	}
	if _, err := Unmarshal(edit(plain, "seed", base64.StdEncoding.EncodeToString(make([]byte, 31))), nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("short seed: %v", err)
	}
	if _, err := Unmarshal(edit(sealed, "kdf", nil), pp); !errors.Is(err, ErrBadKey) {
		t.Errorf("sealed without kdf: %v", err)
	}
	if _, err := Unmarshal([]byte("not json"), nil); !errors.Is(err, ErrBadKey) {
		t.Errorf("not json: %v", err)
	}
}

// Variables, not constants, so that vet does not reject the verbs that a
// key without a Format method would not support: the point is to try them.
var (
	numericVerbs = "%d %o %b %08d"
	valueVerbs   = "%v %+v %#v %d %x %s"
	sliceVerbs   = "%v %+v %d"
)

// A private key printed by mistake, with any verb, shows its id only.
func TestPrivateKeyFormatting(t *testing.T) {
	k := mustGenerate(t)
	seed := k.key.Seed()
	secrets := map[string]string{
		"base64":     base64.StdEncoding.EncodeToString(seed),
		"raw base64": base64.RawStdEncoding.EncodeToString(seed),
		"hex":        hex.EncodeToString(seed),
		"HEX":        strings.ToUpper(hex.EncodeToString(seed)),
		// %v of a []byte prints decimal bytes: look for the first eight.
		"decimal": strings.Trim(fmt.Sprint(seed[:8]), "[]"),
	}
	outs := map[string]string{
		"pointer %v %+v %#v %s": fmt.Sprintf("%v %+v %#v %s", k, k, k, k),
		"pointer %x %q":         fmt.Sprintf("%x %X %q", k, k, k),
		"Sprint/Sprintln":       fmt.Sprint(k) + fmt.Sprintln(k),
		"pointer %d %o %b":      fmt.Sprintf(numericVerbs, k, k, k, k),
		"value %v %+v %#v %d":   fmt.Sprintf(valueVerbs, *k, *k, *k, *k, *k, *k),
		"slice of keys":         fmt.Sprintf(sliceVerbs, []*PrivateKey{k}, []PrivateKey{*k}, []PrivateKey{*k}),
		"in a struct":           fmt.Sprintf("%v %+v %#v", struct{ K *PrivateKey }{k}, struct{ K *PrivateKey }{k}, struct{ K *PrivateKey }{k}),
	}
	for what, out := range outs {
		if !strings.Contains(out, k.Public().ID()) && what != "in a struct" {
			t.Errorf("%s: %q does not name the key id", what, out)
		}
		for enc, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s: output contains the seed (%s): %q", what, enc, out)
			}
		}
	}
	if got := fmt.Sprintf("%v", k); got != "private key "+k.Public().ID() {
		t.Errorf("%%v = %q", got)
	}
	if j, _ := json.Marshal(k); bytes.Contains(j, []byte(secrets["base64"])) {
		t.Errorf("json.Marshal reveals the seed: %s", j)
	}
}

func TestWriteFile(t *testing.T) {
	k := mustGenerate(t)
	dir := t.TempDir()
	for _, pp := range [][]byte{nil, []byte("pp")} {
		p := filepath.Join(dir, fmt.Sprintf("key-%d", len(pp)))
		if err := k.WriteFile(p, pp); err != nil {
			t.Fatal(err)
		}
		info, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := info.Mode().Perm(); m != 0o600 {
			t.Fatalf("key file mode %v, want 0600", m)
		}
		got, err := ReadFile(p, pp)
		if err != nil || !got.Public().Equal(k.Public()) {
			t.Fatalf("ReadFile: %v", err)
		}
		before, _ := os.ReadFile(p)
		other := mustGenerate(t)
		if err := other.WriteFile(p, nil); !errors.Is(err, os.ErrExist) {
			t.Fatalf("WriteFile over an existing file: %v, want ErrExist", err)
		}
		after, _ := os.ReadFile(p)
		if !bytes.Equal(before, after) {
			t.Fatal("WriteFile changed an existing file")
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadFile of a missing file: %v", err)
	}
}
