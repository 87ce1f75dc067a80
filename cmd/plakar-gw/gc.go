package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
)

func newGCCmd(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "gc [--dry-run]",
		Short: "Delete the data that no snapshot uses any more",
		Long: `Delete the packs that no remaining snapshot uses (after rm, or left by an
interrupted ingest). gc takes an exclusive lock: it waits for no one and
fails if an ingest is running. With --dry-run nothing is deleted.`,
		Example: `  plakar-gw rm 3fa2c1d9 && plakar-gw gc
  plakar-gw gc --dry-run`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			r, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			rep, err := r.GC(ctx, engine.GCOptions{DryRun: dryRun})
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"dry_run": dryRun, "packs_deleted": rep.PacksDeleted,
					"bytes_freed": rep.BytesFreed, "blobs_kept": rep.BlobsKept})
			}
			verb := "deleted %d packs, freed %s"
			if dryRun {
				verb = "would delete %d packs, freeing %s"
			}
			_, err = fmt.Fprintf(a.stdout, verb+"; %d blobs kept\n", rep.PacksDeleted, humanBytes(rep.BytesFreed), rep.BlobsKept)
			return err
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only say what would be deleted")
	return cmd
}
