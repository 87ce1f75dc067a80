package gateway

import (
	"errors"
	"fmt"
	"os"

	"github.com/plakar-gw/plakar-gw/engine/sign"
)

// EnvSigningPassphrase holds the passphrase of a sealed signing key file.
const EnvSigningPassphrase = EnvPrefix + "SIGNING_PASSPHRASE"

// TrustedKeys parses signing.trusted_keys.
func (c *Config) TrustedKeys() ([]sign.PublicKey, error) {
	out := make([]sign.PublicKey, 0, len(c.Signing.TrustedKeys))
	for i, s := range c.Signing.TrustedKeys {
		p, err := sign.ParsePublic(s)
		if err != nil {
			return nil, fmt.Errorf("signing.trusted_keys[%d]: %w", i, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// LoadSigningKey reads a private key file; a sealed one is opened with
// $PLAKAR_GW_SIGNING_PASSPHRASE.
func LoadSigningKey(path string) (*sign.PrivateKey, error) {
	k, err := sign.ReadFile(path, []byte(os.Getenv(EnvSigningPassphrase)))
	if errors.Is(err, sign.ErrNeedPassphrase) {
		return nil, fmt.Errorf("signing key %s is sealed: set %s", path, EnvSigningPassphrase)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}
