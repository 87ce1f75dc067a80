package main

import (
	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newMountCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "mount DIR",
		Short: "Mount every snapshot read-only at DIR (FUSE)",
		Args:  checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			return gateway.Mount(cmd.Context(), c, args[0], a.logger())
		},
	}
}
