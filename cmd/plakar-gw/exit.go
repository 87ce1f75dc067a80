package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
)

// Exit codes. They are part of the CLI's contract with scripts.
const (
	exitOK      = 0 // success
	exitFailure = 1 // failure, or a problem found (check)
	exitUsage   = 2 // bad command line
	exitPartial = 3 // done, but some paths had errors (ingest, restore)
	// verify: the snapshot is unsigned, or signed by no trusted key.
	exitUntrusted = 4
	// verify: a signature or the content is bad, or the header cannot be read.
	exitInvalid = 5
)

// exitError carries the exit code of a failed command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func withCode(code int, err error) error { return &exitError{code: code, err: err} }

func usageError(err error) error { return withCode(exitUsage, err) }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, context.Canceled) {
		return 130 // like a shell after SIGINT
	}
	return exitFailure
}

// message is what is printed for err after "plakar-gw: ".
func message(err error) string {
	switch {
	case errors.Is(err, engine.ErrWrongPassphrase):
		return "wrong passphrase"
	case errors.Is(err, context.Canceled):
		return "interrupted"
	}
	return err.Error()
}

// checkArgs turns a positional argument error into a usage error.
func checkArgs(v cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := v(cmd, args); err != nil {
			return usageError(err)
		}
		return nil
	}
}
