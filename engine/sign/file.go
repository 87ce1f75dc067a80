package sign

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/plakar-gw/plakar-gw/engine/crypto"
)

// keyFile is the private key file: JSON, written 0600. The seed is either
// plain or sealed under a passphrase (argon2id + XChaCha20-Poly1305).
type keyFile struct {
	Type   string      `json:"type"` // "plakar-gw ed25519 private key"
	Public string      `json:"public"`
	Seed   []byte      `json:"seed,omitempty"`
	KDF    *crypto.KDF `json:"kdf,omitempty"`
	Sealed []byte      `json:"sealed_seed,omitempty"`
}

const fileType = "plakar-gw ed25519 private key"

// ErrNeedPassphrase reports a sealed key file opened without a passphrase.
var ErrNeedPassphrase = errors.New("sign: the private key file is sealed with a passphrase")

// Marshal returns the key file content; a non-empty passphrase seals it.
func (k *PrivateKey) Marshal(passphrase []byte) ([]byte, error) {
	f := keyFile{Type: fileType, Public: k.pub.String()}
	seed := k.key.Seed()
	if len(passphrase) > 0 {
		kdf := crypto.DefaultKDF()
		sealed, err := crypto.Wrap(seed, passphrase, kdf, []byte(f.Public))
		if err != nil {
			return nil, err
		}
		f.KDF, f.Sealed = &kdf, sealed
	} else {
		f.Seed = seed
	}
	b, err := json.MarshalIndent(f, "", "  ")
	return append(b, '\n'), err
}

// Unmarshal parses a key file; passphrase is needed when it is sealed.
func Unmarshal(b, passphrase []byte) (*PrivateKey, error) {
	var f keyFile
	if err := json.Unmarshal(b, &f); err != nil || f.Type != fileType {
		return nil, fmt.Errorf("%w: not a plakar-gw private key file", ErrBadKey)
	}
	seed := f.Seed
	if f.Sealed != nil {
		if len(passphrase) == 0 {
			return nil, ErrNeedPassphrase
		}
		if f.KDF == nil {
			return nil, fmt.Errorf("%w: sealed key without KDF parameters", ErrBadKey)
		}
		var err error
		if seed, err = crypto.Unwrap(f.Sealed, passphrase, *f.KDF, []byte(f.Public)); err != nil {
			return nil, fmt.Errorf("private key file: %w", err)
		}
	}
	k, err := fromSeed(seed)
	if err != nil {
		return nil, err
	}
	if k.pub.String() != f.Public {
		return nil, fmt.Errorf("%w: the public key in the file does not match its private key", ErrBadKey)
	}
	return k, nil
}

// WriteFile writes the key file with mode 0600, refusing to replace a file.
func (k *PrivateKey) WriteFile(path string, passphrase []byte) error {
	b, err := k.Marshal(passphrase)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// ReadFile reads a key file.
func ReadFile(path string, passphrase []byte) (*PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b, passphrase)
}
