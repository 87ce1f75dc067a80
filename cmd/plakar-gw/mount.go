package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/gateway"
)

// mountMemoryLimit is the mount process's soft Go memory limit, unless
// GOMEMLIMIT sets one.
const mountMemoryLimit = 150 << 20

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
			if os.Getenv("GOMEMLIMIT") == "" {
				// The mount's live heap is a few tens of MB, but it turns
				// over a chunk buffer per read: a soft limit keeps a GC
				// starved of CPU on a busy machine from letting garbage
				// pile up (measured: peak RSS 199 -> 188 MB under load 15).
				debug.SetMemoryLimit(mountMemoryLimit)
			}
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
