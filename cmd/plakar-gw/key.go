package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/gateway"
)

const defaultKeyFile = "plakar-gw-signing.key"

func newKeyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage snapshot signing keys",
		Long: `Manage the ed25519 key pairs that sign snapshots. The private key file
signs (ingest --sign-key, sign); the one-line public key goes into
signing.trusted_keys or verify --trusted-key.`,
		Example: `  plakar-gw key generate --out /etc/plakar-gw/signing.key`,
		Args:    checkArgs(cobra.NoArgs),
	}
	cmd.AddCommand(newKeyGenerateCmd(a))
	return cmd
}

func newKeyGenerateCmd(a *app) *cobra.Command {
	var out string
	var seal bool
	cmd := &cobra.Command{
		Use:   "generate [--out FILE] [--seal]",
		Short: "Make a new signing key pair",
		Long: `Make a new ed25519 key pair. The private key is written to FILE (default
./` + defaultKeyFile + `) with mode 0600; an existing file is never
replaced. With --seal the file is encrypted with a passphrase, taken from
$` + gateway.EnvSigningPassphrase + `, else asked twice on a terminal.
The public key is printed on one line; the private key never is.
No repository is needed.`,
		Example: `  plakar-gw key generate
  plakar-gw key generate --out /etc/plakar-gw/signing.key --seal`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error { return a.keyGenerate(out, seal) },
	}
	cmd.Flags().StringVar(&out, "out", defaultKeyFile, "write the private key to `FILE`")
	cmd.Flags().BoolVar(&seal, "seal", false, "encrypt the private key file with a passphrase")
	return cmd
}

func (a *app) keyGenerate(out string, seal bool) error {
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("%s already exists; not replacing it", out)
	}
	var pass []byte
	if seal {
		var err error
		if pass, err = a.signingPassphrase(); err != nil {
			return err
		}
	}
	k, err := sign.Generate()
	if err != nil {
		return err
	}
	if err := k.WriteFile(out, pass); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists; not replacing it", out)
		}
		return fmt.Errorf("write key file: %w", err)
	}
	pub := k.Public()
	if a.json {
		return a.printJSON(map[string]string{"public_key": pub.String(), "key_id": pub.ID(), "file": out})
	}
	_, err = fmt.Fprintln(a.stdout, pub.String())
	return err
}

// signingPassphrase gets a new passphrase for sealing a key file.
func (a *app) signingPassphrase() ([]byte, error) {
	if p := os.Getenv(gateway.EnvSigningPassphrase); p != "" {
		return []byte(p), nil
	}
	f, ok := a.stdin.(*os.File)
	var ask func(string) ([]byte, error)
	if ok {
		ask = gateway.TerminalPrompt(f, a.stderr)
	}
	if ask == nil {
		return nil, fmt.Errorf("no passphrase for the key file: set %s or run on a terminal", gateway.EnvSigningPassphrase)
	}
	p, err := ask("Key file passphrase: ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	again, err := ask("Repeat passphrase: ")
	if err != nil {
		return nil, err
	}
	if !bytes.Equal(p, again) {
		return nil, errors.New("the passphrases do not match")
	}
	return p, nil
}

// signKey loads the signing key named by flag, else by signing.key; nil
// when neither names one.
func (a *app) signKey(flag string) (*sign.PrivateKey, error) {
	path := flag
	if path == "" {
		c, err := a.config()
		if err != nil {
			return nil, err
		}
		path = c.Signing.Key
	}
	if path == "" {
		return nil, nil
	}
	return gateway.LoadSigningKey(path)
}

// trustedKeys returns the keys of --trusted-key flags and signing.trusted_keys.
func (a *app) trustedKeys(flags []string) ([]sign.PublicKey, error) {
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	keys, err := c.TrustedKeys()
	if err != nil {
		return nil, usageError(err)
	}
	for _, s := range flags {
		p, err := sign.ParsePublic(s)
		if err != nil {
			return nil, usageError(fmt.Errorf("--trusted-key: %w", err))
		}
		keys = append(keys, p)
	}
	return keys, nil
}
