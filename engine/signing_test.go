package engine_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
)

func genKey(t *testing.T) *sign.PrivateKey {
	t.Helper()
	k, err := sign.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keySeed extracts the 32-byte seed from a plain key file.
func keySeed(t *testing.T, k *sign.PrivateKey) []byte {
	t.Helper()
	b, err := k.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Seed []byte }
	if err := json.Unmarshal(b, &f); err != nil || len(f.Seed) != 32 {
		t.Fatalf("key file seed: %d bytes, %v", len(f.Seed), err)
	}
	return f.Seed
}

func verdict(t *testing.T, r *engine.Repository, s *snapshot.Snapshot, o engine.VerifyOptions) *engine.VerifyReport {
	t.Helper()
	rep, err := r.VerifySnapshot(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ID != s.ID.String() {
		t.Fatalf("report for %s, want %s", rep.ID, s.ID)
	}
	return rep
}

func TestSignAtIngest(t *testing.T) {
	root, r := fsRepo(t)
	k, other := genKey(t), genKey(t)
	s := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: k})
	if s.Header.Signer != k.Public().ID() {
		t.Fatalf("header signer %q, want %q", s.Header.Signer, k.Public().ID())
	}
	if len(s.Signatures) != 1 || s.Signatures[0].KeyID != k.Public().ID() {
		t.Fatalf("signatures %+v", s.Signatures)
	}
	// What another process reads back.
	r2 := mustReopenFS(t, root)
	ctx := context.Background()
	got, err := r2.FindSnapshot(ctx, s.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Signer != k.Public().ID() || len(got.Signatures) != 1 {
		t.Fatalf("reloaded: signer %q, %d signatures", got.Header.Signer, len(got.Signatures))
	}
	for _, c := range []struct {
		name    string
		trusted []sign.PublicKey
		want    string
	}{
		{"trusted", []sign.PublicKey{k.Public()}, "trusted"},
		{"trusted among others", []sign.PublicKey{other.Public(), k.Public()}, "trusted"},
		{"nil", nil, "untrusted"},
		{"other key", []sign.PublicKey{other.Public()}, "untrusted"},
	} {
		for _, deep := range []bool{false, true} {
			rep := verdict(t, r2, got, engine.VerifyOptions{Trusted: c.trusted, Deep: deep})
			if rep.Verdict != c.want {
				t.Errorf("%s (deep %v): verdict %q, want %q; %+v", c.name, deep, rep.Verdict, c.want, rep)
			}
			if len(rep.Signatures) != 1 || !rep.Signatures[0].Valid || rep.Signatures[0].KeyID != k.Public().ID() ||
				rep.Signatures[0].Trusted != (c.want == "trusted") {
				t.Errorf("%s: signatures %+v", c.name, rep.Signatures)
			}
			if deep && (rep.Blobs == 0 || len(rep.Problems) > 0) {
				t.Errorf("%s: deep verify checked %d blobs, problems %v", c.name, rep.Blobs, rep.Problems)
			}
		}
	}
	// The signer is part of the signed bytes: changing the header's claim
	// changes the canonical bytes.
	if !bytes.Contains(got.Canonical, []byte(`"signer":"`+k.Public().ID()+`"`)) {
		t.Errorf("canonical bytes do not record the signer: %s", got.Canonical)
	}
}

func TestSignLater(t *testing.T) {
	root, r := fsRepo(t)
	ctx := context.Background()
	k, k2 := genKey(t), genKey(t)
	s := ingestOpts(t, r, smallTree(t), engine.IngestOptions{})
	if s.Header.Signer != "" || len(s.Signatures) != 0 {
		t.Fatalf("unsigned ingest: signer %q, %d signatures", s.Header.Signer, len(s.Signatures))
	}
	if rep := verdict(t, r, s, engine.VerifyOptions{Trusted: []sign.PublicKey{k.Public()}}); rep.Verdict != "unsigned" || len(rep.Signatures) != 0 {
		t.Fatalf("unsigned snapshot: %+v", rep)
	}
	if engine.StatusText(engine.Signatures(s, nil)) != "unsigned" {
		t.Fatal("status text of an unsigned snapshot")
	}

	signed, err := r.SignSnapshot(ctx, s, k2)
	if err != nil {
		t.Fatal(err)
	}
	if signed.ID != s.ID || !bytes.Equal(signed.Canonical, s.Canonical) {
		t.Fatal("signing changed the id or the canonical bytes")
	}
	if len(s.Signatures) != 0 {
		t.Fatal("SignSnapshot modified its argument")
	}
	r2 := mustReopenFS(t, root)
	got, err := r2.FindSnapshot(ctx, s.ID.String()[:12])
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || len(got.Signatures) != 1 || got.Signatures[0].KeyID != k2.Public().ID() {
		t.Fatalf("reloaded: id %s, signatures %+v", got.ID, got.Signatures)
	}
	snaps, bad, err := r2.ListSnapshots(ctx)
	if err != nil || len(snaps) != 1 || len(bad) != 0 {
		t.Fatalf("list after signing: %d snapshots, bad %v, %v", len(snaps), bad, err)
	}
	if rep := verdict(t, r2, got, engine.VerifyOptions{Trusted: []sign.PublicKey{k2.Public()}}); rep.Verdict != "trusted" {
		t.Fatalf("signed later with k2: %+v", rep)
	}
	if rep := verdict(t, r2, got, engine.VerifyOptions{Trusted: []sign.PublicKey{k.Public()}}); rep.Verdict != "untrusted" {
		t.Fatalf("signed later with k2, k trusted: %+v", rep)
	}
	if txt := engine.StatusText(engine.Signatures(got, nil)); txt != "signed by "+k2.Public().ID() {
		t.Fatalf("status text %q", txt)
	}

	// A second key adds a second signature; both verify.
	both, err := r2.SignSnapshot(ctx, got, k)
	if err != nil {
		t.Fatal(err)
	}
	// Signing again with the same key replaces its signature.
	if both, err = r2.SignSnapshot(ctx, both, k); err != nil {
		t.Fatal(err)
	}
	got, err = mustReopenFS(t, root).FindSnapshot(ctx, s.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != s.ID || len(got.Signatures) != 2 || len(both.Signatures) != 2 {
		t.Fatalf("after signing with k2, k, k: %d signatures", len(got.Signatures))
	}
	ids := []string{got.Signatures[0].KeyID, got.Signatures[1].KeyID}
	slices.Sort(ids)
	want := []string{k.Public().ID(), k2.Public().ID()}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("signature key ids %v, want %v", ids, want)
	}
	for _, st := range engine.Signatures(got, nil) {
		if !st.Valid || st.Trusted {
			t.Fatalf("signature %+v", st)
		}
	}
	for _, tr := range [][]sign.PublicKey{{k.Public()}, {k2.Public()}, {k.Public(), k2.Public()}} {
		if rep := verdict(t, r2, got, engine.VerifyOptions{Trusted: tr, Deep: true}); rep.Verdict != "trusted" || len(rep.Problems) > 0 {
			t.Fatalf("two signatures, trusted %d keys: %+v", len(tr), rep)
		}
	}
	if rep := verdict(t, r2, got, engine.VerifyOptions{}); rep.Verdict != "untrusted" {
		t.Fatalf("two signatures, nothing trusted: %+v", rep)
	}
}

// A flipped byte in a signed snapshot's header object makes it unreadable:
// it is reported, never loaded as valid.
func TestTamperSnapshotHeaderByte(t *testing.T) {
	root, r := fsRepo(t)
	ctx := context.Background()
	k := genKey(t)
	s := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: k})
	other := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: k, Time: time.Now().Add(time.Hour)})
	p := filepath.Join(root, "snapshots", s.ID.String())
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 30, len(orig) / 2, len(orig) - 1} {
		b := bytes.Clone(orig)
		b[at] ^= 0x01
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r2 := mustReopenFS(t, root)
		if got, err := r2.FindSnapshot(ctx, s.ID.String()); err == nil {
			t.Fatalf("byte %d flipped: FindSnapshot loaded it (%d signatures)", at, len(got.Signatures))
		}
		if _, err := r2.FindSnapshot(ctx, s.ID.String()[:12]); err == nil {
			t.Fatalf("byte %d flipped: FindSnapshot by prefix loaded it", at)
		}
		snaps, bad, err := r2.ListSnapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(snaps) != 1 || snaps[0].ID != other.ID || bad[s.ID.String()] == nil {
			t.Fatalf("byte %d flipped: list %d snapshots, bad %v", at, len(snaps), bad)
		}
		r2.SetPolicy(engine.Policy{Trusted: []sign.PublicKey{k.Public()}})
		infos, err := r2.Snapshots(ctx)
		if err != nil || len(infos) != 1 || infos[0].ID != other.ID.String() {
			t.Fatalf("byte %d flipped: Snapshots %+v, %v", at, infos, err)
		}
		if _, err := r2.OpenSnapshot(ctx, s.ID.String()); err == nil {
			t.Fatalf("byte %d flipped: OpenSnapshot succeeded", at)
		}
	}
	os.WriteFile(p, orig, 0o600)
	got, err := mustReopenFS(t, root).FindSnapshot(ctx, s.ID.String())
	if err != nil || len(got.Signatures) != 1 {
		t.Fatalf("restored header: %v", err)
	}
}

func TestSigningPolicy(t *testing.T) {
	root, r := fsRepo(t)
	ctx := context.Background()
	k, other := genKey(t), genKey(t)
	now := time.Now()
	unsigned := ingestOpts(t, r, smallTree(t), engine.IngestOptions{Time: now})
	signed := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: k, Time: now.Add(time.Minute)})
	byOther := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: other, Time: now.Add(2 * time.Minute)})

	r = mustReopenFS(t, root)
	info := func(list []engineInfo, id string) *engineInfo {
		for i := range list {
			if list[i].ID == id {
				return &list[i]
			}
		}
		return nil
	}
	trusted := "signed by " + k.Public().ID() + ", trusted"

	// Default: no policy, everything listed.
	infos, err := r.Snapshots(ctx)
	if err != nil || len(infos) != 3 {
		t.Fatalf("no policy: %d snapshots, %v", len(infos), err)
	}

	r.SetPolicy(engine.Policy{RequireSignature: true, Trusted: []sign.PublicKey{k.Public()}})
	infos, err = r.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].ID != signed.ID.String() {
		t.Fatalf("RequireSignature: listed %+v, want only %s", infos, signed.ID)
	}
	if infos[0].Signed != trusted {
		t.Fatalf("Signed = %q, want %q", infos[0].Signed, trusted)
	}
	for _, hidden := range []*snapshot.Snapshot{unsigned, byOther} {
		for _, name := range []string{hidden.ID.String(), hidden.ID.String()[:12]} {
			if _, err := r.OpenSnapshot(ctx, name); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("OpenSnapshot(%s) of a hidden snapshot: %v, want fs.ErrNotExist", name[:12], err)
			}
		}
	}
	fsys, err := r.OpenSnapshot(ctx, signed.ID.String()[:12])
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(fsys, "a.txt"); err != nil || string(b) != "hello" {
		t.Fatalf("read through the trusted snapshot: %q, %v", b, err)
	}
	// "latest" resolves to the newest snapshot, which the policy hides.
	if _, err := r.OpenSnapshot(ctx, "latest"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenSnapshot(latest) of a hidden snapshot: %v", err)
	}

	r.SetPolicy(engine.Policy{RequireSignature: false, Trusted: []sign.PublicKey{k.Public()}})
	infos, err = r.Snapshots(ctx)
	if err != nil || len(infos) != 3 {
		t.Fatalf("RequireSignature false: %d snapshots, %v", len(infos), err)
	}
	list := make([]engineInfo, len(infos))
	for i, in := range infos {
		list[i] = engineInfo{ID: in.ID, Signed: in.Signed}
	}
	for id, want := range map[string]string{
		unsigned.ID.String(): "unsigned",
		signed.ID.String():   trusted,
		byOther.ID.String():  "signed by " + other.Public().ID(),
	} {
		got := info(list, id)
		if got == nil || got.Signed != want {
			t.Fatalf("snapshot %s: %+v, want Signed %q", id[:12], got, want)
		}
	}
	for _, s := range []*snapshot.Snapshot{unsigned, signed, byOther} {
		if _, err := r.OpenSnapshot(ctx, s.ID.String()); err != nil {
			t.Fatalf("OpenSnapshot without RequireSignature: %v", err)
		}
	}
	// Without any trusted key, RequireSignature hides everything.
	r.SetPolicy(engine.Policy{RequireSignature: true})
	if infos, err := r.Snapshots(ctx); err != nil || len(infos) != 0 {
		t.Fatalf("RequireSignature with no trusted key: %d snapshots, %v", len(infos), err)
	}
	// The CLI's own listing ignores the policy.
	if snaps, _, err := r.ListSnapshots(ctx); err != nil || len(snaps) != 3 {
		t.Fatalf("ListSnapshots under a policy: %d, %v", len(snaps), err)
	}
}

type engineInfo struct{ ID, Signed string }

// The private key's seed is written nowhere in the repository, in any
// common encoding.
func TestSignSeedNotInRepository(t *testing.T) {
	root, r := fsRepo(t)
	ctx := context.Background()
	k := genKey(t)
	seed := keySeed(t, k)
	s := ingestOpts(t, r, smallTree(t), engine.IngestOptions{SignKey: k})
	u := ingestOpts(t, r, smallTree(t), engine.IngestOptions{Time: time.Now().Add(time.Hour)})
	if _, err := r.SignSnapshot(ctx, u, k); err != nil {
		t.Fatal(err)
	}
	// Hold a lock while looking, so that lock objects are checked too.
	unlock, err := r.Lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	needles := [][]byte{seed, []byte(b64(seed)), []byte(hexs(seed))}
	files := 0
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		for i, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s contains the signing key's seed (encoding %d)", p, i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			kinds[strings.SplitN(filepath.ToSlash(rel), "/", 2)[0]] = true
		}
		return nil
	})
	for _, k := range []string{"config", "packs", "index", "snapshots", "locks"} {
		if !kinds[k] {
			t.Errorf("no %s file was checked (found %v)", k, kinds)
		}
	}
	// The public key, which may appear, is at least the one expected.
	got, err := mustReopenFS(t, root).FindSnapshot(ctx, s.ID.String())
	if err != nil || !bytes.Equal(got.Signatures[0].PublicKey, k.Public().Bytes()) {
		t.Fatalf("reloaded signature: %v", err)
	}
	t.Logf("checked %d files", files)
}

func b64(b []byte) string  { return base64.StdEncoding.EncodeToString(b) }
func hexs(b []byte) string { return hex.EncodeToString(b) }
