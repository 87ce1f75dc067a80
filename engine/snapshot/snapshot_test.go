package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/codec"
	"github.com/plakar-gw/plakar-gw/engine/crypto"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func testKey(t testing.TB) *crypto.Key {
	t.Helper()
	k, err := crypto.FromMaster(bytes.Repeat([]byte{9}, crypto.MasterSize), crypto.DefaultCipher)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sampleHeader() Header {
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 6, time.FixedZone("X", 3600))
	return Header{
		Time: t0, Hostname: "host", Username: "me", Importer: "fs", Origin: "/home/me", Job: "nightly",
		Tags: []string{"a", "b"}, Root: blob.ID{1, 2, 3},
		RootInfo: RootInfo{Mode: fs.ModeDir | 0o755, ModTime: t0.UTC(), UID: 1, GID: 2},
		Summary: vfs.Summary{Self: vfs.Counts{Files: 3, LargestFile: "/x", LargestSize: 9, OldestMtime: t0.UTC()},
			Subtree: vfs.Counts{Files: 30, Dirs: 4, Errors: 1}},
		Errors: []ErrorPage{{First: "/a", ID: blob.ID{4}, Count: 1}},
		Stats:  Stats{Files: 30, Bytes: 1000, BlobsAdded: 5, StoredAdded: 800, Duration: 1.5},
	}
}

func sample(t testing.TB, k *crypto.Key) *Snapshot {
	s, err := New(k, sampleHeader())
	if err != nil {
		t.Fatal(err)
	}
	s.Signatures = []Signature{{KeyID: "k1", PublicKey: []byte{1, 2}, Sig: []byte{3, 4}}}
	return s
}

func envelopeOf(t testing.TB, s *Snapshot) []byte {
	b, err := json.Marshal(envelope{Header: s.Canonical, Signatures: s.Signatures})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewSealOpen(t *testing.T) {
	k := testKey(t)
	s := sample(t, k)
	if s.Header.Version != Version || s.Header.Time.Location() != time.UTC {
		t.Fatalf("header not normalised: %+v", s.Header)
	}
	again, _ := New(k, sampleHeader())
	if again.ID != s.ID || !bytes.Equal(again.Canonical, s.Canonical) {
		t.Fatal("New is not deterministic")
	}
	h := sampleHeader()
	h.Tags = append(h.Tags, "c")
	if other, _ := New(k, h); other.ID == s.ID {
		t.Fatal("different headers, same id")
	}
	otherKey, _ := crypto.FromMaster(bytes.Repeat([]byte{1}, crypto.MasterSize), crypto.DefaultCipher)
	if other, _ := New(otherKey, sampleHeader()); other.ID == s.ID {
		t.Fatal("the id does not depend on the key")
	}

	sealed, err := Seal(k, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Open(k, s.ID.String(), sealed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("got %+v\nwant %+v", got, s)
	}
	// Stored under another name, damaged, or opened with another key: refused.
	var wrong blob.ID
	if _, err := Open(k, wrong.String(), sealed); !errors.Is(err, vfs.ErrCorrupt) {
		t.Fatalf("wrong name: %v", err)
	}
	if _, err := Open(k, "xyz", sealed); err == nil {
		t.Fatal("bad name accepted")
	}
	bad := bytes.Clone(sealed)
	bad[30] ^= 1
	if _, err := Open(k, s.ID.String(), bad); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("flipped: %v", err)
	}
	if _, err := Open(otherKey, s.ID.String(), sealed); !errors.Is(err, crypto.ErrAuth) {
		t.Fatalf("other key: %v", err)
	}
}

// Signatures travel beside the header: adding one keeps the id.
func TestSignaturesKeepID(t *testing.T) {
	k := testKey(t)
	s := sample(t, k)
	s.Signatures = append(s.Signatures, Signature{KeyID: "k2"})
	got, err := Decode(k, s.ID, envelopeOf(t, s))
	if err != nil || len(got.Signatures) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	k := testKey(t)
	s := sample(t, k)
	env := envelopeOf(t, s)
	// A header changed by one byte no longer matches its id.
	changed := bytes.Replace(env, []byte(`"host"`), []byte(`"hose"`), 1)
	if _, err := Decode(k, s.ID, changed); !errors.Is(err, vfs.ErrCorrupt) {
		t.Fatalf("changed header: %v", err)
	}
	for name, b := range map[string]string{
		"not json":      "nope",
		"unknown field": `{"header":{},"extra":1}`,
		"no header":     `{}`,
		"null header":   `{"header":null}`,
		"empty":         ``,
	} {
		if _, err := Decode(k, s.ID, []byte(b)); !errors.Is(err, vfs.ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A header with a valid id but the wrong version.
	h := sampleHeader()
	canon, _ := json.Marshal(struct {
		Header
		Version int `json:"version"`
	}{h, 2})
	s2 := &Snapshot{ID: idOf(k, canon), Canonical: canon}
	if _, err := Decode(k, s2.ID, envelopeOf(t, s2)); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("version 2: %v", err)
	}
	// A header with a valid id that is not a header.
	s3 := &Snapshot{Canonical: []byte(`[1,2]`)}
	s3.ID = idOf(k, s3.Canonical)
	if _, err := Decode(k, s3.ID, envelopeOf(t, s3)); !errors.Is(err, vfs.ErrCorrupt) {
		t.Fatalf("array header: %v", err)
	}
}

func TestErrorsRoundTrip(t *testing.T) {
	for _, errs := range [][]vfs.PathError{
		{},
		{{Path: "/a", Message: "permission denied"}, {Path: "/a/ü", Message: ""}, {Path: "", Message: "x"}},
	} {
		enc := EncodeErrors(errs)
		got, err := DecodeErrors(enc)
		if err != nil || !reflect.DeepEqual(got, errs) {
			t.Fatalf("got %+v, %v", got, err)
		}
		for n := 0; n < len(enc); n++ {
			if _, err := DecodeErrors(enc[:n]); !errors.Is(err, codec.ErrFormat) {
				t.Fatalf("truncated to %d: %v", n, err)
			}
		}
		if _, err := DecodeErrors(append(bytes.Clone(enc), 0)); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("trailing byte: %v", err)
		}
	}
	for _, b := range [][]byte{{2, 0}, {1, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if _, err := DecodeErrors(b); !errors.Is(err, codec.ErrFormat) {
			t.Fatalf("%x: %v", b, err)
		}
	}
}

func FuzzDecodeErrors(f *testing.F) {
	enc := EncodeErrors([]vfs.PathError{{Path: "/a", Message: "m"}, {Path: "/b/c", Message: "permission denied"}})
	f.Add(enc)
	f.Add(EncodeErrors(nil))
	f.Add(enc[:len(enc)-2])
	f.Add(append(bytes.Clone(enc), 'x'))
	b := bytes.Clone(enc)
	b[1] = 0x7f
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		errs, err := DecodeErrors(b)
		if err != nil {
			if !errors.Is(err, codec.ErrFormat) {
				t.Fatalf("error %v does not wrap codec.ErrFormat", err)
			}
			return
		}
		again, err := DecodeErrors(EncodeErrors(errs))
		if err != nil {
			t.Fatalf("re-encoded page fails: %v", err)
		}
		if !reflect.DeepEqual(again, errs) {
			t.Fatalf("round trip differs:\n%q\n%q", errs, again)
		}
	})
}

// FuzzSnapshotDecode decodes arbitrary envelopes with a fixed key and a
// fixed expected id. Only an envelope whose header is exactly the canonical
// bytes of that id may succeed, and what it yields must seal and open again.
func FuzzSnapshotDecode(f *testing.F) {
	k := testKey(f)
	s := sample(f, k)
	env := envelopeOf(f, s)
	f.Add(env)
	f.Add([]byte(`{"header":` + string(s.Canonical) + `}`))
	f.Add([]byte(`{"header":` + string(s.Canonical) + `,"signatures":[{"key_id":"x","public_key":"AAEC","sig":null}]}`))
	f.Add([]byte(` {"header": ` + string(s.Canonical) + ` } trailing`))
	f.Add(env[:len(env)/2])
	f.Add([]byte(`{"header":{},"signatures":[{}]}`))
	f.Add([]byte(`{"header":"` + strings.Repeat("x", 100) + `"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := Decode(k, s.ID, b)
		if err != nil {
			return
		}
		if got.ID != s.ID || !bytes.Equal(got.Canonical, s.Canonical) {
			t.Fatalf("accepted a header that does not match the id: %q", got.Canonical)
		}
		if !reflect.DeepEqual(got.Header, s.Header) {
			t.Fatalf("header differs: %+v", got.Header)
		}
		sealed, err := Seal(k, got)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Open(k, s.ID.String(), sealed)
		if err != nil {
			t.Fatalf("re-sealed snapshot fails: %v", err)
		}
		// "signatures":[] comes back omitted: compare empty and nil alike.
		if len(got.Signatures) == 0 {
			got.Signatures = nil
		}
		if !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip differs:\n%+v\n%+v", got, again)
		}
	})
}
