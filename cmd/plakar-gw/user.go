package main

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/bcrypt"
)

func newUserCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Make credentials for the users of serve",
	}
	var jobs []string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Print a new S3 key pair and password with a config entry for them",
		Long: `Make a new user: an S3 access key id and secret access key, and a random
password for WebDAV and the web UI, printed once together with the users:
entry to paste into the config (which keeps only the bcrypt hash of the
password). Nothing is written anywhere: keep the secret and the password,
they cannot be recovered. --job limits the user to the snapshots of a job
(repeatable).`,
		Example: `  plakar-gw user add alice
  plakar-gw user add --job web --job db backup-reader`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if name == "" || strings.ContainsAny(name, ": \t\n") {
				return usageError(errors.New("a user name has no spaces or colons"))
			}
			keyID := "PGW" + randomBase32(17)
			secret := randomBase64(30)
			password := randomBase64(18)
			hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			if a.json {
				return a.printJSON(map[string]any{"name": name, "access_key_id": keyID, "secret_access_key": secret,
					"password": password, "password_hash": string(hash), "jobs": jobs})
			}
			fmt.Fprintf(a.stdout, "# user %s: keep these, they are shown once\n", name)
			fmt.Fprintf(a.stdout, "#   S3:     AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s\n", keyID, secret)
			fmt.Fprintf(a.stdout, "#   WebDAV: user %s, password %s\n", name, password)
			fmt.Fprintf(a.stdout, "# add to the users: list of the config:\n")
			fmt.Fprintf(a.stdout, "  - name: %s\n    access_key_id: %s\n    secret_access_key: %s\n    password_hash: '%s'\n",
				name, keyID, secret, hash)
			if len(jobs) > 0 {
				fmt.Fprintf(a.stdout, "    jobs: [%s]\n", strings.Join(jobs, ", "))
			}
			return nil
		},
	}
	add.Flags().StringArrayVar(&jobs, "job", nil, "limit the user to the snapshots of job `NAME` (repeatable)")
	cmd.AddCommand(add)
	return cmd
}

func randomBase32(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)[:n]
}

func randomBase64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
