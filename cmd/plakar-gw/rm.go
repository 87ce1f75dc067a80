package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine/snapshot"
)

func newRmCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rm SNAP...",
		Short: "Remove snapshots",
		Long: `Remove the named snapshots. Every name is resolved first, so "latest latest"
removes one snapshot. The data they alone used stays in the repository until
the next gc. Names that do not resolve are reported and the others are still
removed; the command then exits with code 1.`,
		Example: `  plakar-gw rm 3fa2c1d9
  plakar-gw rm web-latest 77b0e2aa41c3`,
		Args: checkArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			var targets []*snapshot.Snapshot
			seen := map[string]bool{}
			failed := 0
			for _, name := range args {
				s, err := findSnapshot(ctx, r, name)
				if err != nil {
					fmt.Fprintf(a.stderr, "plakar-gw: rm %s: %v\n", name, err)
					failed++
				} else if !seen[s.ID.String()] {
					seen[s.ID.String()] = true
					targets = append(targets, s)
				}
			}
			removed := []string{}
			for _, s := range targets {
				if _, err := r.RemoveSnapshot(ctx, s.ID.String()); err != nil {
					fmt.Fprintf(a.stderr, "plakar-gw: rm %s: %v\n", s.ID, err)
					failed++
					continue
				}
				removed = append(removed, s.ID.String())
				if !a.json {
					fmt.Fprintf(a.stdout, "removed snapshot %s\n", s.ID)
				}
			}
			if a.json {
				if err := a.printJSON(map[string]any{"removed": removed}); err != nil {
					return err
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d snapshots not removed", failed, len(args))
			}
			return nil
		},
	}
}
