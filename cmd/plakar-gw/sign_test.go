package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plakar-gw/plakar-gw/engine/sign"
)

// genKey runs key generate and returns the public key line and the
// base64 seed of the key file.
func genKey(t *testing.T, c *cli, file string) (pub, seed string) {
	t.Helper()
	r := c.fails(0, "key", "generate", "--out", file)
	out := r.stdout
	if r.stderr != "" {
		t.Errorf("key generate stderr: %q", r.stderr)
	}
	pub = strings.TrimSpace(out)
	if _, err := sign.ParsePublic(pub); err != nil {
		t.Fatalf("key generate printed %q: %v", out, err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var kf struct {
		Seed []byte `json:"seed"`
	}
	if err := json.Unmarshal(b, &kf); err != nil || len(kf.Seed) == 0 {
		t.Fatalf("key file: %v\n%s", err, b)
	}
	return pub, base64.StdEncoding.EncodeToString(kf.Seed)
}

func TestSigning(t *testing.T) {
	c := newCLI(t)
	t.Setenv("PLAKAR_GW_SIGNING_KEY", "")
	t.Setenv("PLAKAR_GW_SIGNING_PASSPHRASE", "")
	t.Setenv("PLAKAR_GW_SIGNING_TRUSTED_KEYS", "")
	src, _ := sourceTree(t, c.dir)
	key1, key2 := filepath.Join(c.dir, "k1.key"), filepath.Join(c.dir, "k2.key")

	// Every output is checked for the private key bytes.
	var secrets []string
	var outputs []string
	run := func(code int, args ...string) result {
		t.Helper()
		r := c.fails(code, args...)
		outputs = append(outputs, r.stdout, r.stderr)
		return r
	}

	// key generate needs no repository.
	pub1, seed1 := genKey(t, c, key1)
	pub2, seed2 := genKey(t, c, key2)
	secrets = append(secrets, seed1, seed2)
	if r := run(1, "key", "generate", "--out", key1); !strings.Contains(r.stderr, "already exists") {
		t.Errorf("overwrite: %q", r.stderr)
	}
	var kj struct {
		PublicKey string `json:"public_key"`
		KeyID     string `json:"key_id"`
		File      string `json:"file"`
	}
	c.jsonOf(&kj, "key", "generate", "--out", filepath.Join(c.dir, "k3.key"))
	if p, err := sign.ParsePublic(kj.PublicKey); err != nil || p.ID() != kj.KeyID || kj.File == "" {
		t.Errorf("key generate --json: %+v %v", kj, err)
	}
	p1, _ := sign.ParsePublic(pub1)
	p2, _ := sign.ParsePublic(pub2)
	id1, id2 := p1.ID(), p2.ID()

	run(0, "init")
	out := run(0, "ingest", "--sign-key", key1, src).stdout
	if !strings.Contains(out, "signed by "+id1) {
		t.Fatalf("ingest --sign-key: %q", out)
	}
	id := strings.Fields(out)[1]
	plain := strings.Fields(run(0, "ingest", src).stdout)[1]

	if r := run(0, "verify", id, "--trusted-key", pub1); !strings.Contains(r.stdout, "verdict: trusted") ||
		!strings.Contains(r.stdout, id1+": valid, trusted") {
		t.Errorf("verify trusted: %q", r.stdout)
	}
	if r := run(4, "verify", id); !strings.Contains(r.stdout, "verdict: untrusted") {
		t.Errorf("verify untrusted: %q", r.stdout)
	}
	if r := run(4, "verify", plain, "--trusted-key", pub1); !strings.Contains(r.stdout, "verdict: unsigned") {
		t.Errorf("verify unsigned: %q", r.stdout)
	}
	run(4, "verify", id, "--trusted-key", pub2)
	run(2, "verify", id, "--trusted-key", "plakar-gw-ed25519 nope")

	// A second signature, added later, keeps the id.
	if r := run(0, "sign", id[:12], "--sign-key", key2); r.stdout != "snapshot "+id+" signed by "+id2+"\n" {
		t.Errorf("sign: %q", r.stdout)
	}
	var rep struct {
		ID         string
		Verdict    string
		Signatures []struct {
			KeyID   string `json:"key_id"`
			Valid   bool
			Trusted bool
		}
	}
	r := run(0, "--json", "verify", id, "--trusted-key", pub2, "--deep")
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.ID != id || rep.Verdict != "trusted" || len(rep.Signatures) != 2 {
		t.Errorf("verify --json after sign: %+v", rep)
	}

	// snapshots shows the status, trusted per the config file.
	cfg := filepath.Join(c.dir, "config.yaml")
	writeFile(t, cfg, []byte("signing:\n  trusted_keys:\n    - \""+pub1+"\"\n"))
	table := run(0, "--config", cfg, "snapshots").stdout
	if !strings.Contains(table, "SIGNATURE") || !strings.Contains(table, "signed by ") ||
		!strings.Contains(table, ", trusted") || !strings.Contains(table, "unsigned") {
		t.Errorf("snapshots table:\n%s", table)
	}
	var snaps []struct {
		ID        string
		Signature struct {
			Status     string
			Signatures []json.RawMessage
		}
	}
	r = run(0, "--json", "snapshots")
	if err := json.Unmarshal([]byte(r.stdout), &snaps); err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		if s.ID == id && (len(s.Signature.Signatures) != 2 || !strings.HasPrefix(s.Signature.Status, "signed by ")) ||
			s.ID == plain && s.Signature.Status != "unsigned" {
			t.Errorf("snapshots --json: %+v", s)
		}
	}
	run(0, "--config", cfg, "verify", id)

	// A tampered header is invalid.
	hdr := filepath.Join(c.repo, "snapshots", id)
	b, err := os.ReadFile(hdr)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(hdr, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(5, "verify", id, "--trusted-key", pub1); !strings.Contains(r.stderr, id) || !strings.Contains(r.stderr, "invalid") {
		t.Errorf("verify tampered: %q", r.stderr)
	}
	run(5, "verify", id[:12], "--trusted-key", pub1)

	for _, o := range outputs {
		for _, s := range secrets {
			if strings.Contains(o, s) {
				t.Fatalf("private key printed: %q", o)
			}
		}
	}
}

func TestSealedSigningKey(t *testing.T) {
	c := newCLI(t)
	t.Setenv("PLAKAR_GW_SIGNING_KEY", "")
	t.Setenv("PLAKAR_GW_SIGNING_PASSPHRASE", "")
	key := filepath.Join(c.dir, "sealed.key")
	if r := c.fails(1, "key", "generate", "--seal", "--out", key); !strings.Contains(r.stderr, "PLAKAR_GW_SIGNING_PASSPHRASE") {
		t.Errorf("seal without passphrase: %q", r.stderr)
	}
	t.Setenv("PLAKAR_GW_SIGNING_PASSPHRASE", "key secret")
	c.ok("key", "generate", "--seal", "--out", key)
	if b, _ := os.ReadFile(key); strings.Contains(string(b), `"seed"`) {
		t.Errorf("sealed key file holds a plain seed:\n%s", b)
	}
	src, _ := sourceTree(t, c.dir)
	c.ok("init")
	t.Setenv("PLAKAR_GW_SIGNING_KEY", key)
	if out := c.ok("ingest", src); !strings.Contains(out, "signed by ") {
		t.Errorf("ingest with PLAKAR_GW_SIGNING_KEY: %q", out)
	}
	t.Setenv("PLAKAR_GW_SIGNING_PASSPHRASE", "")
	if r := c.fails(1, "ingest", src); !strings.Contains(r.stderr, "sealed") {
		t.Errorf("sealed key without passphrase: %q", r.stderr)
	}
}
