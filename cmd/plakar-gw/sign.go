package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func newSignCmd(a *app) *cobra.Command {
	var keyFile string
	cmd := &cobra.Command{
		Use:   "sign SNAP --sign-key FILE",
		Short: "Add a signature to an existing snapshot",
		Long: `Sign the snapshot with the private key in FILE (--sign-key, else
signing.key or $PLAKAR_GW_SIGNING_KEY). A signature by the same key is
replaced; other signatures stay. The snapshot id does not change. A sealed
key file is opened with $PLAKAR_GW_SIGNING_PASSPHRASE.
Prints: snapshot <id> signed by <key id>`,
		Example: `  plakar-gw sign latest --sign-key ./plakar-gw-signing.key`,
		Args:    checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			k, err := a.signKey(keyFile)
			if err != nil {
				return err
			}
			if k == nil {
				return usageError(errors.New("no signing key: use --sign-key FILE, signing.key or PLAKAR_GW_SIGNING_KEY"))
			}
			r, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer r.Close()
			s, err := findSnapshot(ctx, r, args[0])
			if err != nil {
				return err
			}
			if _, err := r.SignSnapshot(ctx, s, k); err != nil {
				return fmt.Errorf("sign snapshot %s: %w", s.ID, err)
			}
			if a.json {
				return a.printJSON(map[string]string{"id": s.ID.String(), "key_id": k.Public().ID()})
			}
			_, err = fmt.Fprintf(a.stdout, "snapshot %s signed by %s\n", s.ID, k.Public().ID())
			return err
		},
	}
	cmd.Flags().StringVar(&keyFile, "sign-key", "", "private key `FILE` (env PLAKAR_GW_SIGNING_KEY)")
	return cmd
}
