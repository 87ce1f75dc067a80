package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
)

func newCheckCmd(a *app) *cobra.Command {
	var readData bool
	cmd := &cobra.Command{
		Use:   "check [--read-data]",
		Short: "Verify the repository's integrity",
		Long: `Verify that every snapshot opens, every tree it references decodes and
every blob it needs is indexed and inside an existing pack. With --read-data
every pack is also read and every blob verified against its id (slow: reads
the whole repository). Problems are printed one per line; the command exits
with code 1 when there is any.`,
		Example: `  plakar-gw check
  plakar-gw check --read-data --json`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			r, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			rep, err := r.Check(ctx, engine.CheckOptions{ReadData: readData, Progress: a.checkProgress()})
			if isTerminal(a.stderr) {
				fmt.Fprint(a.stderr, "\r\033[K")
			}
			if err != nil {
				return err
			}
			if err := a.printCheck(rep); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return fmt.Errorf("the repository is damaged: %d problems", len(rep.Problems))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&readData, "read-data", false, "read and verify every blob")
	return cmd
}

// checkProgress shows check's steps: one redrawn line on a terminal, else log lines.
func (a *app) checkProgress() func(string) {
	if isTerminal(a.stderr) {
		return func(msg string) { fmt.Fprintf(a.stderr, "\r\033[K%s", msg) }
	}
	log := a.logger()
	return func(msg string) { log.Info("check", "step", msg) }
}

func (a *app) printCheck(rep *engine.CheckReport) error {
	if a.json {
		problems := rep.Problems
		if problems == nil {
			problems = []string{}
		}
		return a.printJSON(map[string]any{"ok": len(problems) == 0, "snapshots": rep.Snapshots, "trees": rep.Trees,
			"blobs": rep.Blobs, "packs": rep.Packs, "unused_packs": rep.UnusedPacks, "problems": problems})
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(a.stdout, p)
	}
	fmt.Fprintf(a.stdout, "checked %d snapshots, %d trees, %d blobs, %d packs: ", rep.Snapshots, rep.Trees, rep.Blobs, rep.Packs)
	if len(rep.Problems) == 0 {
		fmt.Fprintln(a.stdout, "no problems found")
	} else {
		fmt.Fprintf(a.stdout, "%d problems found\n", len(rep.Problems))
	}
	if rep.UnusedPacks > 0 {
		fmt.Fprintf(a.stdout, "%d packs are not in the index (left by an interrupted ingest; gc removes them)\n", rep.UnusedPacks)
	}
	return nil
}
