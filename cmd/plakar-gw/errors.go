package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func newErrorsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "errors SNAP[:PATH]",
		Short: "List the paths that could not be read at ingest",
		Long: `List the errors recorded when the snapshot was made, at or under PATH (the
whole snapshot by default), one "path: message" line each, in path order.`,
		Example: `  plakar-gw errors latest
  plakar-gw errors --json home-latest:/home/me/.cache`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRef(cmd.Context(), args[0], a.listErrors)
		},
	}
}

func (a *app) listErrors(_ context.Context, _ *engine.Repository, rf ref, _ *snapshot.Snapshot, fsys vfs.FS) error {
	list := []pathMessageJSON{}
	for pe, err := range fsys.Errors(rf.path) {
		if err != nil {
			return pathError(rf, err)
		}
		if !a.json {
			fmt.Fprintf(a.stdout, "%s: %s\n", pe.Path, pe.Message)
		}
		list = append(list, pathMessageJSON{Path: pe.Path, Message: pe.Message})
	}
	if a.json {
		return a.printJSON(list)
	}
	if len(list) == 0 {
		fmt.Fprintf(a.stderr, "no errors recorded under %s\n", rf.display())
	}
	return nil
}
