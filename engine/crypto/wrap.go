package crypto

import (
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// ErrWrongPassphrase reports a passphrase that does not open the key.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// KDF holds argon2id parameters; they are stored beside the wrapped key so
// that they can be raised for new repositories without breaking old ones.
type KDF struct {
	Algorithm string `json:"algorithm"` // "argon2id"
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
	Salt      []byte `json:"salt"`
}

// DefaultKDF costs well under a second and 64 MiB on a small machine: the
// open cost budget is 1 s and 128 MiB.
func DefaultKDF() KDF {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(fmt.Sprintf("crypto: no randomness: %v", err))
	}
	return KDF{Algorithm: "argon2id", Time: 2, MemoryKiB: 64 * 1024, Threads: 2, Salt: salt}
}

// aead derives the key-encryption key from passphrase and returns its AEAD.
func (p KDF) aead(passphrase []byte) (cipher.AEAD, error) {
	kek, err := p.derive(passphrase)
	if err != nil {
		return nil, err
	}
	return chacha20poly1305.NewX(kek)
}

func (p KDF) derive(passphrase []byte) ([]byte, error) {
	if p.Algorithm != "argon2id" {
		return nil, fmt.Errorf("crypto: unknown key derivation %q", p.Algorithm)
	}
	if p.Time == 0 || p.Time > 100 || p.MemoryKiB < 8 || p.MemoryKiB > 4<<20 || p.Threads == 0 || len(p.Salt) < 8 {
		return nil, fmt.Errorf("crypto: key derivation parameters out of range")
	}
	prefault(int(p.MemoryKiB) << 10)
	return argon2.IDKey(passphrase, p.Salt, p.Time, p.MemoryKiB, p.Threads, 32), nil
}

// prefault readies n bytes of heap for argon2's work area. argon2 reads
// each block before it writes it, so on fresh memory every page faults
// twice: once to map the shared zero page, then a copy-on-write fault whose
// TLB flush interrupts every other core. On a 2-core VM that was 0.2 s of
// the 0.3 s an open took. Mapping the area writable first, then freeing it,
// lets argon2's allocation reuse pages that fault no more.
func prefault(n int) {
	if n < 1<<20 {
		return
	}
	mapWritable(n)
	// A full collection frees the area before argon2 allocates, so the
	// allocator hands the same pages back.
	runtime.GC()
}

// mapWritable allocates n bytes and maps their pages writable. It is a
// function of its own so that nothing refers to the area once it returns.
//
//go:noinline
func mapWritable(n int) {
	b := make([]byte, n)
	if !populate(b) {
		for i := 0; i < len(b); i += 4096 {
			b[i] = 0
		}
	}
}

// Wrap seals the master secret under a key derived from passphrase, bound to
// ad (the rest of the config) so that the config cannot be altered unnoticed.
func Wrap(master, passphrase []byte, p KDF, ad []byte) ([]byte, error) {
	aead, err := p.aead(passphrase)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, master, ad), nil
}

// Unwrap opens a master secret sealed by Wrap. A wrong passphrase (or an
// altered config) returns ErrWrongPassphrase.
func Unwrap(wrapped, passphrase []byte, p KDF, ad []byte) ([]byte, error) {
	aead, err := p.aead(passphrase)
	if err != nil {
		return nil, err
	}
	n := chacha20poly1305.NonceSizeX
	if len(wrapped) < n+chacha20poly1305.Overhead {
		return nil, fmt.Errorf("crypto: wrapped key too short")
	}
	master, err := aead.Open(nil, wrapped[:n], wrapped[n:], ad)
	if err != nil {
		return nil, ErrWrongPassphrase
	}
	return master, nil
}
