package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func newSummaryCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "summary SNAP[:PATH]",
		Short: "Show the counts of a directory of a snapshot",
		Long: `Show the summary of a directory of a snapshot (the root by default), for the
directory itself (its direct entries) and for its whole subtree: files,
directories, symlinks, other entries, size, errors recorded at ingest,
oldest and newest modification time, and the largest file.`,
		Example: `  plakar-gw summary latest
  plakar-gw summary --json home-latest:/home/me`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRef(cmd.Context(), args[0], a.summary)
		},
	}
}

func (a *app) summary(_ context.Context, _ *engine.Repository, rf ref, s *snapshot.Snapshot, fsys vfs.FS) error {
	sum, err := fsys.Summary(rf.path)
	if err != nil {
		return pathError(rf, err)
	}
	if a.json {
		return a.printJSON(struct {
			Snapshot string `json:"snapshot"`
			Path     string `json:"path"`
			summaryJSON
		}{s.ID.String(), rf.display(), toSummaryJSON(sum)})
	}
	fmt.Fprintf(a.stdout, "snapshot %s, %s\n\n", s.ID.String()[:12], rf.display())
	return printSummary(a, sum)
}

func printSummary(a *app, s vfs.Summary) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 3, ' ', 0)
	line := func(label string, self, sub any) { fmt.Fprintf(tw, "%s\t%v\t%v\n", label, self, sub) }
	line("", "this directory", "whole subtree")
	line("files", s.Self.Files, s.Subtree.Files)
	line("directories", s.Self.Dirs, s.Subtree.Dirs)
	line("symlinks", s.Self.Symlinks, s.Subtree.Symlinks)
	line("other entries", s.Self.Others, s.Subtree.Others)
	line("size", humanBytes(s.Self.Bytes), humanBytes(s.Subtree.Bytes))
	line("errors", s.Self.Errors, s.Subtree.Errors)
	line("oldest mtime", when(s.Self.OldestMtime), when(s.Subtree.OldestMtime))
	line("newest mtime", when(s.Self.NewestMtime), when(s.Subtree.NewestMtime))
	line("largest file", largest(s.Self), largest(s.Subtree))
	return tw.Flush()
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

func largest(c vfs.Counts) string {
	if c.LargestFile == "" {
		return "-"
	}
	return fmt.Sprintf("%s (%s)", c.LargestFile, humanBytes(c.LargestSize))
}
