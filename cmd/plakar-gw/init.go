package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/gateway"
)

func newInitCmd(a *app) *cobra.Command {
	var o engine.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a new, empty repository",
		Long: `Create a new repository at --repo (or repository.path). The folder may be
missing or empty. On a terminal the passphrase is asked twice; it cannot be
recovered: without it the repository cannot be read.

--compression picks how new data is compressed, for good: zstd (default, the
smallest repository) or s2 (about twice as fast on text on a slow CPU, about
1.4x larger for text), or none. Blobs that do not shrink are stored as they
are whatever the choice.

--cipher picks the authenticated encryption, also for good: xaes-256-gcm
(default; AES-256-GCM with 192-bit random nonces, fastest on any CPU with AES
instructions) or xchacha20-poly1305 (for CPUs without them).`,
		Example: `  plakar-gw init --repo /srv/backups
  PLAKAR_GW_PASSPHRASE_FILE=/etc/plakar-gw/pass plakar-gw init
  plakar-gw init --compression s2
  plakar-gw init --cipher xchacha20-poly1305`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			if err := gateway.InitRepository(cmd.Context(), c, o); err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]string{"repository": c.Repository.Path})
			}
			fmt.Fprintf(a.stdout, "created repository at %s\n", c.Repository.Path)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Compression, "compression", "zstd", "compression of new data: zstd, s2 or none")
	cmd.Flags().StringVar(&o.Cipher, "cipher", "xaes-256-gcm", "encryption of every object: xaes-256-gcm or xchacha20-poly1305")
	return cmd
}
