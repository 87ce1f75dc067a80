// Package sign owns snapshot signing keys: ed25519 key pairs, their text
// forms (a one-line public key for config files, a private key file that may
// be sealed with a passphrase), key ids, and signing and verifying the
// canonical bytes of a snapshot header. It knows nothing of repositories.
package sign

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// PublicPrefix starts the one-line text form of a public key.
const PublicPrefix = "plakar-gw-ed25519"

// ErrBadKey reports key text that does not parse.
var ErrBadKey = errors.New("sign: malformed key")

// PublicKey is a signer's public key.
type PublicKey struct{ key ed25519.PublicKey }

// PrivateKey signs snapshots. Its String method never reveals the key.
type PrivateKey struct {
	key ed25519.PrivateKey
	pub PublicKey
}

// Generate returns a new key pair.
func Generate() (*PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{key: priv, pub: PublicKey{pub}}, nil
}

func fromSeed(seed []byte) (*PrivateKey, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: seed of %d bytes", ErrBadKey, len(seed))
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &PrivateKey{key: priv, pub: PublicKey{priv.Public().(ed25519.PublicKey)}}, nil
}

// Public returns the key's public half.
func (k *PrivateKey) Public() PublicKey { return k.pub }

// String names the key by its id only, so a key printed by mistake leaks nothing.
func (k *PrivateKey) String() string { return "private key " + k.pub.ID() }

// GoString keeps %#v from printing the key bytes.
func (k *PrivateKey) GoString() string { return k.String() }

// Format prints the id only, whatever the verb and whether the key is
// printed through a pointer or as a value (fmt would otherwise print the
// key bytes for %d, or for any verb of a dereferenced key).
func (k PrivateKey) Format(f fmt.State, verb rune) { fmt.Fprint(f, "private key "+k.pub.ID()) }

// Sign signs msg.
func (k *PrivateKey) Sign(msg []byte) []byte { return ed25519.Sign(k.key, msg) }

// ID is the key id: the first 16 hex characters of SHA-256 of the key.
func (p PublicKey) ID() string {
	sum := sha256.Sum256(p.key)
	return hex.EncodeToString(sum[:8])
}

// Bytes returns the raw 32-byte key.
func (p PublicKey) Bytes() []byte { return append([]byte(nil), p.key...) }

// String is the one-line text form: "plakar-gw-ed25519 <base64> <id>".
func (p PublicKey) String() string {
	return PublicPrefix + " " + base64.StdEncoding.EncodeToString(p.key) + " " + p.ID()
}

// Verify reports whether sig is p's signature of msg.
func (p PublicKey) Verify(msg, sig []byte) bool {
	return len(p.key) == ed25519.PublicKeySize && ed25519.Verify(p.key, msg, sig)
}

// Equal reports whether p and q are the same key.
func (p PublicKey) Equal(q PublicKey) bool { return p.key.Equal(q.key) }

// PublicFromBytes wraps a raw 32-byte key.
func PublicFromBytes(b []byte) (PublicKey, error) {
	if len(b) != ed25519.PublicKeySize {
		return PublicKey{}, fmt.Errorf("%w: public key of %d bytes", ErrBadKey, len(b))
	}
	return PublicKey{ed25519.PublicKey(append([]byte(nil), b...))}, nil
}

// ParsePublic parses the one-line form; the trailing id, when present, must
// match the key (it catches a truncated or mistyped paste).
func ParsePublic(s string) (PublicKey, error) {
	f := strings.Fields(s)
	if len(f) < 2 || f[0] != PublicPrefix {
		return PublicKey{}, fmt.Errorf("%w: want %q followed by the key", ErrBadKey, PublicPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil {
		return PublicKey{}, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	p, err := PublicFromBytes(b)
	if err != nil {
		return p, err
	}
	if len(f) >= 3 && f[2] != p.ID() {
		return PublicKey{}, fmt.Errorf("%w: key id %s does not match the key (%s)", ErrBadKey, f[2], p.ID())
	}
	return p, nil
}
