package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// EnvPassphrase holds the passphrase itself.
const EnvPassphrase = EnvPrefix + "PASSPHRASE"

// ErrNoPassphrase says how a passphrase can be given.
var ErrNoPassphrase = errors.New("no passphrase: use --passphrase-file FILE (or repository.passphrase_file in the config), " +
	"set " + EnvPassphrase + ", or run on a terminal to be asked")

// Passphrase returns the repository passphrase from, in order: a
// --passphrase-file flag, $PLAKAR_GW_PASSPHRASE, a passphrase file from
// the environment or the config file, a prompt. With confirm (for init) a
// prompt asks twice.
func (c *Config) Passphrase(confirm bool) ([]byte, error) {
	file := c.Repository.PassphraseFile
	if file != "" && c.passphraseFileFlag {
		return readPassphraseFile(file)
	}
	if p := os.Getenv(EnvPassphrase); p != "" {
		return []byte(p), nil
	}
	if file != "" {
		return readPassphraseFile(file)
	}
	if c.Prompt == nil {
		return nil, ErrNoPassphrase
	}
	return prompt(c.Prompt, confirm)
}

func readPassphraseFile(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("passphrase file: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", file)
	}
	return b, nil
}

func prompt(ask func(string) ([]byte, error), confirm bool) ([]byte, error) {
	p, err := ask("Repository passphrase: ")
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return nil, errors.New("empty passphrase")
	}
	if !confirm {
		return p, nil
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

// TerminalPrompt returns a Prompt that reads without echo from in, writing
// the question to out, or nil when in is not a terminal.
func TerminalPrompt(in *os.File, out io.Writer) func(string) ([]byte, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return nil
	}
	return func(msg string) ([]byte, error) {
		fmt.Fprint(out, msg)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		return b, err
	}
}

// ReadSecretFile reads a one-line secret (a trailing newline is ignored).
func ReadSecretFile(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", file)
	}
	return s, nil
}
