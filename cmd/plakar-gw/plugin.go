package main

import (
	"github.com/spf13/cobra"
)

func newPluginCmd(a *app) *cobra.Command {
	return &cobra.Command{Use: "plugin", Short: "Importer plugins", Hidden: true}
}
