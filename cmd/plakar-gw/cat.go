package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func newCatCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "cat SNAP:PATH",
		Short: "Write a file of a snapshot to standard output",
		Long: `Write the content of a file of a snapshot to standard output. Symlinks
inside the snapshot are followed. Every chunk is verified before it is
written: if the repository is damaged the output stops before the damaged
part and the command exits with code 1.`,
		Example: `  plakar-gw cat latest:/etc/hosts
  plakar-gw cat web-latest:srv/www/index.html > index.html`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			readerGC(readMemoryLimit)
			return a.withRef(cmd.Context(), args[0], a.cat)
		},
	}
}

func (a *app) cat(_ context.Context, _ *engine.Repository, rf ref, _ *snapshot.Snapshot, fsys vfs.FS) error {
	f, err := fsys.Open(rf.path)
	if err != nil {
		return pathError(rf, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return pathError(rf, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", rf.display())
	}
	buf := make([]byte, 1<<20)
	_, err = io.CopyBuffer(struct{ io.Writer }{a.stdout}, struct{ io.Reader }{f}, buf)
	if errors.Is(err, vfs.ErrCorrupt) {
		return fmt.Errorf("%s: %w; the output stops before the damaged data", rf.display(), err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", rf.display(), err)
	}
	return nil
}
