package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/gateway"
)

// app is the state shared by the commands of one run: where to read and
// write, the global flags, and the configuration, loaded on first use.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	configFile string
	json       bool
	keyFlags   map[string]*pflag.Flag // config key -> global flag

	cfg *gateway.Config
	log *slog.Logger
}

// config loads the configuration once.
func (a *app) config() (*gateway.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	c, err := gateway.Load(gateway.LoadOptions{File: a.configFile, Flags: a.keyFlags})
	if err != nil {
		return nil, usageError(err)
	}
	if f, ok := a.stdin.(*os.File); ok {
		c.Prompt = gateway.TerminalPrompt(f, a.stderr)
	}
	a.cfg = c
	return c, nil
}

// logger returns the configured logger, writing to stderr.
func (a *app) logger() *slog.Logger {
	if a.log != nil {
		return a.log
	}
	format := "text"
	if c, err := a.config(); err == nil {
		format = c.Log.Format
	}
	a.log, _ = gateway.NewLogger(format, a.stderr)
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(a.stderr, nil))
	}
	return a.log
}

// open opens the configured repository; the caller closes it.
func (a *app) open(ctx context.Context) (*engine.Repository, error) {
	c, err := a.config()
	if err != nil {
		return nil, err
	}
	return gateway.OpenRepository(ctx, c)
}

func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether w is a terminal (not a pipe, file or buffer).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
