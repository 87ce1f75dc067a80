package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

func newLsCmd(a *app) *cobra.Command {
	var recursive bool
	cmd := &cobra.Command{
		Use:   "ls SNAP[:PATH]",
		Short: "List a directory of a snapshot",
		Long: `List the entries of a directory of a snapshot (the root by default): mode,
owner/group, size, modification time, name, and "-> target" for symlinks.
The snapshot's signature status is printed first, on standard error.
With -r, list the whole subtree with full paths, in S3 key order.`,
		Example: `  plakar-gw ls latest
  plakar-gw ls 3fa2c1d9:/home/me/Documents
  plakar-gw ls -r --json web-latest:srv/www`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withRef(cmd.Context(), args[0], func(ctx context.Context, _ *engine.Repository, rf ref, s *snapshot.Snapshot, fsys vfs.FS) error {
				if !a.json {
					// On stderr, so that scripts reading the listing see rows only.
					trusted, err := a.trustedKeys(nil)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stderr, "snapshot %s, %s\n", s.ID.Short(), engine.StatusText(engine.Signatures(s, trusted)))
				}
				out := newLister(a)
				if err := a.ls(ctx, fsys, rf, recursive, out); err != nil {
					return pathError(rf, err)
				}
				return out.close()
			})
		},
	}
	cmd.Flags().BoolVarP(&recursive, "recursive", "r", false, "list the whole subtree")
	return cmd
}

func (a *app) ls(ctx context.Context, fsys vfs.FS, rf ref, recursive bool, out *lister) error {
	info, err := fsys.Lstat(rf.path)
	if err != nil {
		return err
	}
	switch {
	case !info.IsDir():
		return out.info(fsys, rf.path, rf.path, info)
	case recursive:
		return lsWalk(ctx, fsys, rf.path, out)
	}
	return lsDir(fsys, rf.path, out)
}

// lsDir lists one directory, in batches so a huge one is never held whole.
func lsDir(fsys vfs.FS, dir string, out *lister) error {
	f, err := fsys.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return &fs.PathError{Op: "readdir", Path: dir, Err: errors.New("not a directory")}
	}
	for {
		entries, err := d.ReadDir(1024)
		for _, e := range entries {
			info, ierr := e.Info()
			if ierr != nil {
				return ierr
			}
			if err := out.info(fsys, path.Join(dir, e.Name()), e.Name(), info); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// lsWalk lists the subtree of dir with Walk: a seek to the directory's key,
// then keys until the first one outside it.
func lsWalk(ctx context.Context, fsys vfs.FS, dir string, out *lister) error {
	prefix := ""
	if dir != "." {
		prefix = dir + "/"
	}
	for e, err := range fsys.Walk(ctx, prefix) {
		if err != nil {
			return err
		}
		if !strings.HasPrefix(e.Key, prefix) {
			return nil
		}
		p := strings.TrimSuffix(e.Key, "/")
		if err := out.row(lsRow{Path: p, Name: p, Type: typeName(e.Mode), Mode: modeString(e.Mode),
			Size: e.Size, ModTime: e.ModTime, UID: e.UID, GID: e.GID, Target: e.Target, ETag: e.ETag}); err != nil {
			return err
		}
	}
	return nil
}
