// Package crypto owns the repository's keys: the random master secret, the
// subkeys derived from it (encryption, content MAC, chunker), their sealing
// under a passphrase with argon2id, and authenticated encryption of every
// object the repository stores.
//
// Choices: an AEAD with random 192-bit nonces, so that any number of
// concurrent writers can seal under one key with no nonce bookkeeping:
// XAES-256-GCM for new repositories, XChaCha20-Poly1305 for those made
// before it (the config says which); keyed BLAKE3 for content ids (faster than HMAC-SHA256 here, and a MAC so
// that ids reveal nothing without the key).
package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"

	"github.com/zeebo/blake3"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrAuth reports a ciphertext that failed authentication: wrong key or
// damaged bytes. Callers wrap it with what they were reading.
var ErrAuth = errors.New("authentication failed")

// MasterSize is the length of the random master secret.
const MasterSize = 32

// Overhead is what Seal adds to a plaintext.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// NonceSize is the length of the nonce that starts a sealed object; its
// ciphertext follows, so Open(sealed[NonceSize:NonceSize], sealed, ad)
// decrypts in place.
const NonceSize = chacha20poly1305.NonceSizeX

// Cipher names the AEAD a repository seals its objects with. Both take a
// 24-byte random nonce and add a 16-byte tag, so sealed objects have the
// same layout whichever it is.
type Cipher string

const (
	XChaCha20Poly1305 Cipher = "xchacha20-poly1305"
	XAES256GCM        Cipher = "xaes-256-gcm"
	// DefaultCipher is what init chooses: the fastest on CPUs with AES
	// instructions, which every x86-64 and arm64 server has.
	DefaultCipher = XAES256GCM
)

// ParseCipher checks a config's cipher name; empty means a repository
// made before the choice existed, which used XChaCha20-Poly1305.
func ParseCipher(name string) (Cipher, error) {
	switch Cipher(name) {
	case "", XChaCha20Poly1305:
		return XChaCha20Poly1305, nil
	case XAES256GCM:
		return XAES256GCM, nil
	}
	return "", fmt.Errorf("crypto: unknown cipher %q (this version knows %s and %s)", name, XChaCha20Poly1305, XAES256GCM)
}

// Key holds the subkeys of one repository. It is safe for concurrent use.
type Key struct {
	master []byte
	aead   interface {
		Seal(dst, nonce, plaintext, ad []byte) []byte
		Open(dst, nonce, ciphertext, ad []byte) ([]byte, error)
	}
	mac   [32]byte
	chunk [32]byte
	// hashers recycles keyed BLAKE3 hashers: one is about 10 KiB and a
	// content id is computed for every blob written, read or checked
	// (228 MB of garbage in one check of a 1.4 GiB repository).
	hashers sync.Pool
}

// NewMaster returns a fresh random master secret.
func NewMaster() []byte {
	m := make([]byte, MasterSize)
	if _, err := rand.Read(m); err != nil {
		panic(fmt.Sprintf("crypto: no randomness: %v", err))
	}
	return m
}

// FromMaster derives the subkeys from a master secret; objects are sealed
// with c.
func FromMaster(master []byte, c Cipher) (*Key, error) {
	if len(master) != MasterSize {
		return nil, fmt.Errorf("crypto: master secret is %d bytes, want %d", len(master), MasterSize)
	}
	k := &Key{master: append([]byte(nil), master...)}
	var enc [32]byte
	blake3.DeriveKey("plakar-gw v1 encryption key", master, enc[:])
	blake3.DeriveKey("plakar-gw v1 content id key", master, k.mac[:])
	blake3.DeriveKey("plakar-gw v1 chunker key", master, k.chunk[:])
	var err error
	switch c {
	case XChaCha20Poly1305:
		k.aead, err = chacha20poly1305.NewX(enc[:])
	case XAES256GCM:
		k.aead, err = newXAES(enc[:])
	default:
		err = fmt.Errorf("crypto: unknown cipher %q", c)
	}
	if err != nil {
		return nil, err
	}
	return k, nil
}

// Master returns a copy of the master secret (for re-wrapping it).
func (k *Key) Master() []byte { return append([]byte(nil), k.master...) }

// ChunkerKey seeds the chunker's gear table, so that chunk boundaries do not
// reveal content to someone who sees only sizes.
func (k *Key) ChunkerKey() []byte { return append([]byte(nil), k.chunk[:]...) }

// Sum returns the keyed content id of data.
func (k *Key) Sum(data []byte) [32]byte {
	h, _ := k.hashers.Get().(*blake3.Hasher)
	if h == nil {
		h, _ = blake3.NewKeyed(k.mac[:])
	}
	h.Write(data)
	var out [32]byte
	h.Sum(out[:0])
	h.Reset() // keeps the key
	k.hashers.Put(h)
	return out
}

// Seal encrypts and authenticates plaintext bound to ad, appending
// nonce||ciphertext||tag to dst.
func (k *Key) Seal(dst, plaintext, ad []byte) []byte {
	var nonce [chacha20poly1305.NonceSizeX]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		panic(fmt.Sprintf("crypto: no randomness: %v", err))
	}
	dst = append(dst, nonce[:]...)
	return k.aead.Seal(dst, nonce[:], plaintext, ad)
}

// Open authenticates and decrypts sealed (as made by Seal with the same ad),
// appending the plaintext to dst. A failure wraps ErrAuth.
func (k *Key) Open(dst, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, fmt.Errorf("crypto: sealed object of %d bytes is too short: %w", len(sealed), ErrAuth)
	}
	n := chacha20poly1305.NonceSizeX
	out, err := k.aead.Open(dst, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrAuth
	}
	return out, nil
}
