package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/restore"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

type restoreFlags struct {
	to        string
	overwrite bool
	noOwner   bool
}

func newRestoreCmd(a *app) *cobra.Command {
	var f restoreFlags
	cmd := &cobra.Command{
		Use:   "restore SNAP[:PATH] --to DIR",
		Short: "Restore a snapshot, or part of it, to a local folder",
		Long: `Restore a directory of a snapshot (the root by default) as the folder DIR,
created if missing, or a single file into DIR (when DIR is an existing
folder) or as DIR. Files, folders, symlinks, hardlinks, fifos and, as root,
devices are recreated with their modes, times, extended attributes and (as
root) owners. Existing files are kept unless --overwrite is given.

An entry that cannot be restored is reported and the restore goes on; the
command then exits with code 3. A file whose content fails its integrity
check is not left behind.`,
		Example: `  plakar-gw restore latest --to /tmp/restored
  plakar-gw restore home-latest:/home/me/Documents --to ~/Documents.old
  plakar-gw restore 3fa2c1d9:/etc/hosts --to /tmp`,
		Args: checkArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error { return a.restore(cmd, args[0], f) },
	}
	cmd.Flags().StringVar(&f.to, "to", "", "destination `DIR` (required)")
	cmd.Flags().BoolVar(&f.overwrite, "overwrite", false, "replace existing files (never followed if symlinks)")
	cmd.Flags().BoolVar(&f.noOwner, "no-owner", false, "do not restore owners, even as root")
	return cmd
}

func (a *app) restore(cmd *cobra.Command, arg string, f restoreFlags) error {
	readerGC(readMemoryLimit)
	if f.to == "" {
		return usageError(errors.New("restore needs --to DIR"))
	}
	var rep restore.Report
	err := a.withRef(cmd.Context(), arg, func(ctx context.Context, _ *engine.Repository, rf ref, _ *snapshot.Snapshot, fsys vfs.FS) error {
		var err error
		rep, err = restore.Restore(ctx, fsys, rf.path, f.to, restore.Options{Overwrite: f.overwrite, NoOwner: f.noOwner})
		return pathError(rf, err)
	})
	if err != nil {
		return err
	}
	if err := a.printRestore(rep, f.to); err != nil {
		return err
	}
	if len(rep.Errors) > 0 {
		return withCode(exitPartial, fmt.Errorf("%d entries could not be restored", len(rep.Errors)))
	}
	return nil
}

type restoreJSON struct {
	Files     int               `json:"files"`
	Dirs      int               `json:"dirs"`
	Symlinks  int               `json:"symlinks"`
	Hardlinks int               `json:"hardlinks"`
	Others    int               `json:"others"`
	Bytes     int64             `json:"bytes"`
	Skipped   []string          `json:"skipped"`
	Errors    []pathMessageJSON `json:"errors"`
}

type pathMessageJSON struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (a *app) printRestore(rep restore.Report, to string) error {
	if a.json {
		out := restoreJSON{Files: rep.Files, Dirs: rep.Dirs, Symlinks: rep.Symlinks, Hardlinks: rep.Hardlinks,
			Others: rep.Others, Bytes: rep.Bytes, Skipped: rep.Skipped, Errors: []pathMessageJSON{}}
		if out.Skipped == nil {
			out.Skipped = []string{}
		}
		for _, e := range rep.Errors {
			out.Errors = append(out.Errors, pathMessageJSON{Path: e.Path, Message: e.Err.Error()})
		}
		return a.printJSON(out)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(a.stderr, "plakar-gw: restore %s\n", describeEntryError(e))
	}
	for _, p := range rep.Skipped {
		fmt.Fprintf(a.stderr, "plakar-gw: restore %s: socket skipped\n", p)
	}
	_, err := fmt.Fprintf(a.stdout, "restored %d files (%s), %d directories, %d symlinks, %d hardlinks, %d others to %s\n",
		rep.Files, humanBytes(rep.Bytes), rep.Dirs, rep.Symlinks, rep.Hardlinks, rep.Others, to)
	return err
}

func describeEntryError(e *restore.EntryError) string {
	p := "/" + e.Path
	if e.Path == "." {
		p = "/"
	}
	switch {
	case errors.Is(e, restore.ErrEscapes):
		return fmt.Sprintf("%s: refused: %v", p, e.Err)
	case errors.Is(e, fs.ErrExist):
		return fmt.Sprintf("%s: %v (use --overwrite to replace it)", p, e.Err)
	}
	return fmt.Sprintf("%s: %v", p, e.Err)
}
