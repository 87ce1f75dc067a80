package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newInitCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create a new, empty repository",
		Long: `Create a new repository at --repo (or repository.path). The folder may be
missing or empty. On a terminal the passphrase is asked twice; it cannot be
recovered: without it the repository cannot be read.`,
		Example: `  plakar-gw init --repo /srv/backups
  PLAKAR_GW_PASSPHRASE_FILE=/etc/plakar-gw/pass plakar-gw init`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			if err := gateway.InitRepository(cmd.Context(), c); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"repository": c.Repository.Path})
			}
			fmt.Fprintf(a.stdout, "created repository at %s\n", c.Repository.Path)
			return nil
		},
	}
}
