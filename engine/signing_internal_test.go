package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/pack"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	fsstore "github.com/plakar-gw/plakar-gw/engine/storage/fs"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
)

// Internal tests forge what only the repository key can produce: a header
// with a valid id but another root, and a chunk re-sealed under its id.

var sigPass = []byte("signing internal")

func sigOpen(tb testing.TB, root string, init bool) *Repository {
	tb.Helper()
	ctx := context.Background()
	st, err := fsstore.New(ctx, fsstore.Config{Path: root})
	if err != nil {
		tb.Fatal(err)
	}
	if init {
		if err := Init(ctx, st, sigPass); err != nil {
			tb.Fatal(err)
		}
	}
	r, err := Open(ctx, st, Options{Passphrase: sigPass, CacheDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

func sigIngest(tb testing.TB, r *Repository, dir string, o IngestOptions) *snapshot.Snapshot {
	tb.Helper()
	ctx := context.Background()
	imp, err := fsimporter.New(ctx, fsimporter.Config{Root: dir})
	if err != nil {
		tb.Fatal(err)
	}
	defer imp.Close()
	s, err := r.Ingest(ctx, imp, o)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func sigRand(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(s).Read(b)
	return b
}

func sigTree(tb testing.TB, seed uint64) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, data := range map[string][]byte{
		"a.txt":        []byte(fmt.Sprintf("hello %d", seed)),
		"rand.bin":     sigRand(seed, 100<<10), // one chunk, stored raw
		"sub/more.bin": sigRand(seed+1000, 50<<10),
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

func sigKey(tb testing.TB) *sign.PrivateKey {
	tb.Helper()
	k, err := sign.Generate()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func sigVerify(t *testing.T, r *Repository, s *snapshot.Snapshot, o VerifyOptions) *VerifyReport {
	t.Helper()
	rep, err := r.VerifySnapshot(context.Background(), s, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// A header whose root was swapped for another snapshot's, under a valid id
// (forged with the repository key), keeps the old signature: that
// signature no longer matches, so the verdict is invalid.
func TestTamperRootSwap(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	r := sigOpen(t, root, true)
	ctx := context.Background()
	k := sigKey(t)
	trusted := []sign.PublicKey{k.Public()}
	a := sigIngest(t, r, sigTree(t, 1), IngestOptions{SignKey: k})
	b := sigIngest(t, r, sigTree(t, 2), IngestOptions{SignKey: k, Time: time.Now().Add(time.Hour)})
	if a.Header.Root == b.Header.Root {
		t.Fatal("the two trees have the same root")
	}

	h := a.Header
	h.Root, h.Summary = b.Header.Root, b.Header.Summary
	forged, err := snapshot.New(r.key, h)
	if err != nil {
		t.Fatal(err)
	}
	if forged.ID == a.ID {
		t.Fatal("forged header has the original id")
	}
	forged.Signatures = a.Signatures
	if err := r.PutSnapshot(ctx, forged); err != nil {
		t.Fatal(err)
	}

	r2 := sigOpen(t, root, false)
	got, err := r2.FindSnapshot(ctx, forged.ID.String())
	if err != nil {
		t.Fatalf("the forged header (valid id) does not load: %v", err)
	}
	if got.Header.Root != b.Header.Root {
		t.Fatal("forged root not read back")
	}
	for _, deep := range []bool{false, true} {
		rep := sigVerify(t, r2, got, VerifyOptions{Trusted: trusted, Deep: deep})
		if rep.Verdict != "invalid" || len(rep.Signatures) != 1 || rep.Signatures[0].Valid || rep.Signatures[0].Trusted {
			t.Fatalf("root swap (deep %v): %+v", deep, rep)
		}
	}
	if txt := StatusText(Signatures(got, trusted)); txt != "invalid" {
		t.Fatalf("status text %q", txt)
	}
	// The originals still verify.
	for _, s := range []*snapshot.Snapshot{a, b} {
		if rep := sigVerify(t, r2, s, VerifyOptions{Trusted: trusted, Deep: true}); rep.Verdict != "trusted" {
			t.Fatalf("untouched snapshot: %+v", rep)
		}
	}
	// The policy hides it; without RequireSignature it is listed as invalid.
	r2.SetPolicy(Policy{RequireSignature: true, Trusted: trusted})
	infos, err := r2.Snapshots(ctx)
	if err != nil || len(infos) != 2 {
		t.Fatalf("Snapshots under RequireSignature: %d, %v", len(infos), err)
	}
	for _, in := range infos {
		if in.ID == forged.ID.String() {
			t.Fatal("the forged snapshot is listed")
		}
	}
	if _, err := r2.OpenSnapshot(ctx, forged.ID.String()); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenSnapshot of the forged snapshot: %v", err)
	}
	r2.SetPolicy(Policy{Trusted: trusted})
	infos, _ = r2.Snapshots(ctx)
	found := false
	for _, in := range infos {
		if in.ID == forged.ID.String() {
			found = true
			if in.Signed != "invalid" {
				t.Fatalf("forged snapshot Signed = %q", in.Signed)
			}
		}
	}
	if !found {
		t.Fatal("forged snapshot not listed without RequireSignature")
	}

	// A signature by the trusted key over another snapshot's bytes.
	other := *a
	other.Signatures = b.Signatures
	if rep := sigVerify(t, r2, &other, VerifyOptions{Trusted: trusted}); rep.Verdict != "invalid" {
		t.Fatalf("signature of another header: %+v", rep)
	}
}

// Signatures whose parts do not belong together are invalid.
func TestTamperSignatureSwap(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	r := sigOpen(t, root, true)
	ctx := context.Background()
	k, mallory := sigKey(t), sigKey(t)
	trusted := []sign.PublicKey{k.Public()}
	a := sigIngest(t, r, sigTree(t, 1), IngestOptions{SignKey: k})
	good := a.Signatures[0]
	if good.KeyID != k.Public().ID() || !bytes.Equal(good.PublicKey, k.Public().Bytes()) {
		t.Fatalf("ingest signature %+v", good)
	}
	cases := map[string]snapshot.Signature{
		// Mallory's signature bytes under k's id and public key.
		"swapped sig bytes": {KeyID: good.KeyID, PublicKey: good.PublicKey, Sig: mallory.Sign(a.Canonical)},
		// Mallory's own valid signature and key, claiming k's id.
		"claimed key id": {KeyID: k.Public().ID(), PublicKey: mallory.Public().Bytes(), Sig: mallory.Sign(a.Canonical)},
		// k's public key and id, and no or a truncated signature.
		"truncated sig": {KeyID: good.KeyID, PublicKey: good.PublicKey, Sig: good.Sig[:63]},
		"no sig":        {KeyID: good.KeyID, PublicKey: good.PublicKey},
		// A malformed public key.
		"short public key": {KeyID: good.KeyID, PublicKey: good.PublicKey[:31], Sig: good.Sig},
		// One flipped bit in an otherwise good signature.
		"flipped sig": {KeyID: good.KeyID, PublicKey: good.PublicKey, Sig: func() []byte { s := bytes.Clone(good.Sig); s[5] ^= 4; return s }()},
	}
	for name, sg := range cases {
		for _, withGood := range []bool{false, true} {
			s := *a
			s.Signatures = []snapshot.Signature{sg}
			if withGood {
				// A good signature beside a bad one does not save it.
				s.Signatures = []snapshot.Signature{good, sg}
			}
			if err := r.PutSnapshot(ctx, &s); err != nil {
				t.Fatal(err)
			}
			got, err := sigOpen(t, root, false).FindSnapshot(ctx, a.ID.String())
			if err != nil {
				t.Fatal(err)
			}
			rep := sigVerify(t, r, got, VerifyOptions{Trusted: trusted})
			bad := rep.Signatures[len(rep.Signatures)-1]
			if rep.Verdict != "invalid" || bad.Valid || bad.Trusted {
				t.Errorf("%s (beside a good one: %v): %+v", name, withGood, rep)
			}
			r.SetPolicy(Policy{RequireSignature: true, Trusted: trusted})
			if _, err := r.OpenSnapshot(ctx, a.ID.String()); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: OpenSnapshot under RequireSignature: %v", name, err)
			}
			r.SetPolicy(Policy{})
		}
	}
	// Mallory's honest signature (her own id) is valid but untrusted.
	s := *a
	s.Signatures = []snapshot.Signature{signatureOf(mallory, a.Canonical)}
	if rep := sigVerify(t, r, &s, VerifyOptions{Trusted: trusted}); rep.Verdict != "untrusted" {
		t.Fatalf("another key's honest signature: %+v", rep)
	}
	// Restored, it verifies again.
	if err := r.PutSnapshot(ctx, a); err != nil {
		t.Fatal(err)
	}
	got, _ := sigOpen(t, root, false).FindSnapshot(ctx, a.ID.String())
	if rep := sigVerify(t, r, got, VerifyOptions{Trusted: trusted}); rep.Verdict != "trusted" {
		t.Fatalf("restored: %+v", rep)
	}
}

// A chunk replaced in its pack by another plaintext sealed under the same
// id with the repository key: the header (and its signature) are intact,
// so a shallow verify still trusts it, but a deep verify finds the chunk
// and reading the file fails with vfs.ErrCorrupt.
func TestTamperChunkReplaced(t *testing.T) {
	root := filepath.Join(t.TempDir(), "repo")
	r := sigOpen(t, root, true)
	ctx := context.Background()
	k := sigKey(t)
	trusted := []sign.PublicKey{k.Public()}
	src := sigTree(t, 1)
	s := sigIngest(t, r, src, IngestOptions{SignKey: k})

	e, _, err := r.SnapshotFS(ctx, s).(*snapFS).resolve("open", "rand.bin", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Chunks) != 1 {
		t.Fatalf("rand.bin has %d chunks, want 1", len(e.Chunks))
	}
	h, err := r.lookup(ctx, e.Chunks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if h.Type != blob.Data || int(h.Length) != pack.SealedSize(int(h.Raw)) {
		t.Fatalf("chunk handle %+v: not a raw-stored data blob", h)
	}
	fake := sigRand(99, int(h.Raw))
	sealed := pack.SealBlob(r.key, nil, pack.None, h.Type, h.ID, fake)
	if len(sealed) != int(h.Length) {
		t.Fatalf("forged blob of %d bytes, original %d", len(sealed), h.Length)
	}
	packPath := filepath.Join(root, "packs", h.Pack.String()[:2], h.Pack.String())
	f, err := os.OpenFile(packPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(sealed, int64(h.Offset)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The forgery decrypts: only the id check can catch it.
	if _, err := pack.OpenBlob(r.key, h, sealed); !errors.Is(err, pack.ErrCorrupt) || !strings.Contains(err.Error(), "does not match its id") {
		t.Fatalf("OpenBlob of the forged blob: %v", err)
	}

	r2 := sigOpen(t, root, false)
	got, err := r2.FindSnapshot(ctx, s.ID.String())
	if err != nil {
		t.Fatal(err)
	}
	if rep := sigVerify(t, r2, got, VerifyOptions{Trusted: trusted}); rep.Verdict != "trusted" || len(rep.Problems) != 0 {
		t.Fatalf("shallow verify of an intact header: %+v", rep)
	}
	rep := sigVerify(t, r2, got, VerifyOptions{Trusted: trusted, Deep: true})
	if rep.Verdict != "invalid" || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], h.ID.String()) {
		t.Fatalf("deep verify: verdict %q, problems %q; want one naming %s", rep.Verdict, rep.Problems, h.ID)
	}
	if len(rep.Signatures) != 1 || !rep.Signatures[0].Valid || !rep.Signatures[0].Trusted {
		t.Fatalf("deep verify signatures %+v", rep.Signatures)
	}
	if rep.Blobs < 4 { // root node, sub node, three chunks at least
		t.Fatalf("deep verify checked %d blobs", rep.Blobs)
	}
	fsys := r2.SnapshotFS(ctx, got)
	if _, err := fs.ReadFile(fsys, "rand.bin"); !errors.Is(err, vfs.ErrCorrupt) {
		t.Fatalf("reading the tampered file: %v, want vfs.ErrCorrupt", err)
	}
	if b, err := fs.ReadFile(fsys, "sub/more.bin"); err != nil || !bytes.Equal(b, sigRand(1001, 50<<10)) {
		t.Fatalf("reading an untouched file: %v", err)
	}
}

// BenchmarkVerifyShallow1000 lists 1,000 signed snapshots (forged headers
// over one real root) and verifies each signature.
func BenchmarkVerifyShallow1000(b *testing.B) {
	const n = 1000
	root := filepath.Join(b.TempDir(), "repo")
	r := sigOpen(b, root, true)
	ctx := context.Background()
	k := sigKey(b)
	base := sigIngest(b, r, sigTree(b, 1), IngestOptions{SignKey: k})
	for i := 1; i < n; i++ {
		h := base.Header
		h.Time = base.Header.Time.Add(time.Duration(i) * time.Second)
		s, err := snapshot.New(r.key, h)
		if err != nil {
			b.Fatal(err)
		}
		s.Signatures = []snapshot.Signature{signatureOf(k, s.Canonical)}
		if err := r.PutSnapshot(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
	r = sigOpen(b, root, false)
	trusted := []sign.PublicKey{k.Public()}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		snaps, bad, err := r.ListSnapshots(ctx)
		if err != nil || len(snaps) != n || len(bad) != 0 {
			b.Fatalf("list: %d snapshots, %d bad, %v", len(snaps), len(bad), err)
		}
		for _, s := range snaps {
			rep, err := r.VerifySnapshot(ctx, s, VerifyOptions{Trusted: trusted})
			if err != nil || rep.Verdict != "trusted" {
				b.Fatalf("verify: %v %v", rep, err)
			}
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/1000snaps")
}

// BenchmarkVerifyDeepVsCheck measures `verify --deep` of a snapshot against
// `check --read-data` of the repository holding only it, in one run, and
// reports their speed ratio (target: deep verify at >= 80% of check).
func BenchmarkVerifyDeepVsCheck(b *testing.B) {
	root := b.TempDir()
	r := sigOpen(b, root, true)
	dir := b.TempDir()
	for i := 0; i < 16; i++ {
		data := sigRand(uint64(i), 4<<20)
		if i%2 == 1 {
			data = bytes.Repeat([]byte(fmt.Sprintf("line %d of some text\n", i)), 4<<20/22)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%02d", i)), data, 0o644)
	}
	s := sigIngest(b, r, dir, IngestOptions{})
	ctx := context.Background()
	var deep, check time.Duration
	for i := 0; i < b.N; i++ {
		fresh := sigOpen(b, root, false) // cold caches for both
		start := time.Now()
		rep, err := fresh.VerifySnapshot(ctx, s, VerifyOptions{Deep: true})
		if err != nil || len(rep.Problems) > 0 {
			b.Fatal(err, rep.Problems)
		}
		deep += time.Since(start)
		fresh = sigOpen(b, root, false)
		start = time.Now()
		crep, err := fresh.Check(ctx, CheckOptions{ReadData: true})
		if err != nil || len(crep.Problems) > 0 {
			b.Fatal(err, crep.Problems)
		}
		check += time.Since(start)
	}
	b.ReportMetric(float64(deep.Milliseconds())/float64(b.N), "deep-ms")
	b.ReportMetric(float64(check.Milliseconds())/float64(b.N), "check-ms")
	b.ReportMetric(float64(check)/float64(deep), "deep-speed/check-speed")
}
