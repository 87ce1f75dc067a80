package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newRepoCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{Use: "repo", Short: "Work on whole repositories"}
	cmd.AddCommand(&cobra.Command{
		Use:   "copy SRC DST",
		Short: "Copy a repository between stores (folder, s3://bucket/prefix) and verify the copy",
		Long: `Copy every object of the repository SRC to DST, each a folder or
s3://bucket/prefix (S3 settings from repository.s3 apply to both), then open
the copy with the passphrase and check it, reading every blob. Objects
already at DST with the same size are skipped, so an interrupted copy can
be run again. The copy keeps the repository's id and keys: both open with
the same passphrase. Exit code 1 when the check finds problems.`,
		Example: `  plakar-gw repo copy ~/.local/share/plakar-gw/repo s3://backups/gw
  plakar-gw repo copy s3://backups/gw /srv/restore-copy`,
		Args: checkArgs(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			rep, err := gateway.CopyRepository(cmd.Context(), c, args[0], args[1], a.logger())
			if err != nil {
				return err
			}
			if a.json {
				if err := a.printJSON(map[string]any{"copied": rep.Copied, "skipped": rep.Skipped, "bytes": rep.Bytes,
					"problems": rep.Check.Problems}); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "copied %d objects (%s), skipped %d already there; check of the copy: %d snapshots, %d blobs, %d problems\n",
					rep.Copied, humanBytes(uint64(rep.Bytes)), rep.Skipped, rep.Check.Snapshots, rep.Check.Blobs, len(rep.Check.Problems))
				for _, p := range rep.Check.Problems {
					fmt.Fprintln(a.stdout, "  ", p)
				}
			}
			if len(rep.Check.Problems) > 0 {
				return fmt.Errorf("the copy is damaged: %d problems", len(rep.Check.Problems))
			}
			return nil
		},
	})
	return cmd
}
