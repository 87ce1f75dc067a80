package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// ref is a parsed SNAP[:PATH] argument.
type ref struct {
	snap string
	path string // io/fs form: "." for the root, no leading slash
}

// parseRef splits SNAP[:PATH]. PATH may start with "/"; ".." cannot climb
// above the snapshot root.
func parseRef(arg string) (ref, error) {
	name, p, _ := strings.Cut(arg, ":")
	if name == "" {
		return ref{}, usageError(fmt.Errorf("%q: missing snapshot name (SNAP[:PATH])", arg))
	}
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		p = "."
	}
	return ref{snap: name, path: p}, nil
}

// display is the path for messages: "/" for the root, else "/a/b".
func (r ref) display() string {
	if r.path == "." {
		return "/"
	}
	return "/" + r.path
}

// findSnapshot resolves a snapshot name with a clear message when nothing matches.
func findSnapshot(ctx context.Context, r *engine.Repository, name string) (*snapshot.Snapshot, error) {
	s, err := r.FindSnapshot(ctx, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no snapshot matches %q", name)
	}
	return s, err
}

// refFunc is the work of a command on one snapshot path.
type refFunc func(ctx context.Context, r *engine.Repository, rf ref, s *snapshot.Snapshot, fsys vfs.FS) error

// withRef parses arg (SNAP[:PATH]), opens the repository, finds the
// snapshot and runs fn on it; the repository is closed afterwards.
func (a *app) withRef(ctx context.Context, arg string, fn refFunc) error {
	rf, err := parseRef(arg)
	if err != nil {
		return err
	}
	r, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	s, err := findSnapshot(ctx, r, rf.snap)
	if err != nil {
		return err
	}
	return fn(ctx, r, rf, s, r.SnapshotFS(ctx, s))
}

// pathError rewords an fs error on a snapshot path for humans.
func pathError(rf ref, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file or directory in snapshot %s", rf.display(), rf.snap)
	}
	return err
}
