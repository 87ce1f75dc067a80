package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

func newMountCmd(a *app) *cobra.Command {
	var o gateway.MountOptions
	cmd := &cobra.Command{
		Use:   "mount DIR",
		Short: "Mount every snapshot read-only at DIR (FUSE)",
		Long: `Mount the repository read-only at DIR with FUSE and stay in the foreground
until interrupted (Ctrl-C, SIGTERM), then unmount.

DIR lists a directory snap-<12 hex> per snapshot and a symlink JOB-latest
to the newest snapshot of each job; snapshots ingested while mounted appear
within a few seconds. Inside, files keep their recorded modes, owners,
sizes, nanosecond mtimes, link counts, symlink targets and extended
attributes. Every write fails with "read-only file system"; data that fails
its integrity check is an I/O error, never wrong bytes.

Needs FUSE: /dev/fuse and, when not run as root, the fusermount3 helper
(apt-get install fuse3). If the process was killed, unmount the stale
mount with: fusermount3 -u DIR`,
		Example: `  mkdir -p /mnt/backups
  plakar-gw --repo /srv/repo mount /mnt/backups &
  ls /mnt/backups
  diff -r /mnt/backups/home-latest/ /home/`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.config()
			if err != nil {
				return err
			}
			readerGC(readMemoryLimit)
			o.Ready = func(dir string) {
				fmt.Fprintf(a.stdout, "mounted at %s (Ctrl-C to unmount)\n", dir)
			}
			return gateway.Mount(cmd.Context(), c, args[0], o, a.logger())
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.AllowOther, "allow-other", false, "let other users read the mount (non-root: needs user_allow_other in /etc/fuse.conf)")
	f.BoolVar(&o.Debug, "debug", false, "log every FUSE request")
	return cmd
}
