package mount

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Options configures a mount.
type Options struct {
	// Logger receives errors; nil logs nothing.
	Logger *slog.Logger
	// Refresh is how old the root's snapshot list may get before a lookup
	// or listing of the root asks the catalog again; 0 means 1 s.
	Refresh time.Duration
	// AllowOther lets other users than the one mounting see the tree (for
	// a non-root user, /etc/fuse.conf must say user_allow_other).
	AllowOther bool
	// Ready, if set, is called once the mount is live.
	Ready func()
	// Debug logs every FUSE request to the Logger.
	Debug bool
}

// Timeouts the kernel is given. Snapshot contents are immutable, so their
// entries, attributes and negative lookups may be cached for long; the root
// changes as snapshots are added and removed.
const (
	contentTimeout = time.Hour
	rootTimeout    = time.Second
)

// Serve mounts cat read-only at dir and serves it until ctx is done, then
// unmounts. It returns early with an error saying what to do when FUSE is
// missing or dir cannot be mounted on.
func Serve(ctx context.Context, dir string, cat vfs.Catalog, o Options) error {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Refresh <= 0 {
		o.Refresh = time.Second
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	if err := preflight(abs); err != nil {
		return err
	}
	root := newRoot(ctx, cat, o)
	server, err := fs.Mount(abs, root, fsOptions(o))
	if err != nil {
		return fmt.Errorf("mount %s: %w%s", abs, err, hint(err))
	}
	o.Logger.Info("mounted", "dir", abs)
	if o.Ready != nil {
		o.Ready()
	}
	done := make(chan struct{})
	go func() {
		server.Wait()
		close(done)
	}()
	select {
	case <-done:
		o.Logger.Warn("unmounted from outside", "dir", abs)
		return nil
	case <-ctx.Done():
	}
	return unmount(server, abs, done, o.Logger)
}

func fsOptions(o Options) *fs.Options {
	long := contentTimeout
	opts := &fs.Options{
		// Root entries set their own, short, timeouts.
		EntryTimeout:    &long,
		AttrTimeout:     &long,
		NegativeTimeout: &long,
		// Mode 000 files are shown as they are, not as 0644.
		NullPermissions: true,
		RootStableAttr:  &fs.StableAttr{Ino: rootIno},
		MountOptions: fuse.MountOptions{
			FsName: "plakar-gw",
			Name:   "plakar-gw",
			// default_permissions: the kernel checks the recorded modes
			// and owners, as on the source file system.
			Options:    []string{"ro", "default_permissions"},
			AllowOther: o.AllowOther,
			// Reads of up to 1 MiB: fewer round trips through the FUSE
			// device when the kernel's readahead window allows them.
			MaxWrite:     1 << 20,
			MaxReadAhead: 1 << 20,
			// As root, mount(2) directly: fusermount3 is then not needed.
			DirectMount: os.Geteuid() == 0,
			// Contents never change: no automatic invalidation of cached
			// pages, and symlink targets may be cached too.
			ExplicitDataCacheControl: true,
			EnableSymlinkCaching:     true,
			// READDIRPLUS (entries with their attributes) only where the
			// kernel sees it pays, as for ls -l; a find then lists
			// 100,000 names without making 100,000 inodes here.
			ExtraCapabilities: fuse.CAP_READDIRPLUS_AUTO,
			Debug:             o.Debug,
			Logger:            log.New(slogWriter{o.Logger, fuseLogLevel(o)}, "", 0),
		},
	}
	return opts
}

// Check reports the usual set-up problems (no FUSE, no fusermount3 for a
// non-root user, dir missing, stale or already mounted) with what to do,
// so a command can fail before it opens a repository. Serve checks too.
func Check(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	return preflight(abs)
}

// preflight turns the usual set-up problems into messages that say what
// to do, before go-fuse reports them less clearly.
func preflight(dir string) error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("mount: FUSE is not available: /dev/fuse is missing (%v); install fuse3 (apt-get install fuse3) and load the module (modprobe fuse), or in a container pass --device /dev/fuse --cap-add SYS_ADMIN", err)
	}
	if os.Geteuid() != 0 {
		if _, err := exec.LookPath("fusermount3"); err != nil {
			if _, err2 := exec.LookPath("fusermount"); err2 != nil {
				return errors.New("mount: fusermount3 not found: install fuse3 (apt-get install fuse3)")
			}
		}
	}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, syscall.ENOTCONN):
		return fmt.Errorf("mount: %s is a stale FUSE mount left by a process that died; unmount it with: fusermount3 -u %s", dir, dir)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("mount: %s does not exist; create the directory first (mkdir -p %s)", dir, dir)
	case err != nil:
		return fmt.Errorf("mount: %w", err)
	case !st.IsDir():
		return fmt.Errorf("mount: %s is not a directory", dir)
	}
	if mounted, err := isMountPoint(dir); err == nil && mounted {
		return fmt.Errorf("mount: %s is already a mount point; unmount it first (fusermount3 -u %s or umount %s)", dir, dir, dir)
	}
	return nil
}

// hint adds what to do to a mount error go-fuse returned.
func hint(err error) string {
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return " (fusermount3 not found: install fuse3, apt-get install fuse3)"
	case errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EACCES):
		return " (not permitted: run as root, or install fuse3 so that the setuid fusermount3 helper can mount)"
	}
	return ""
}

// unmount unmounts after ctx is done. A busy mount (a shell's working
// directory inside it, an open file) is detached lazily so the process can
// still exit: the kernel finishes the unmount when the last user leaves.
func unmount(server *fuse.Server, dir string, done <-chan struct{}, log *slog.Logger) error {
	err := server.Unmount()
	if err == nil {
		<-done
		log.Info("unmounted", "dir", dir)
		return nil
	}
	log.Warn("unmount failed, detaching lazily", "dir", dir, "err", err)
	if lerr := lazyUnmount(dir); lerr != nil {
		return fmt.Errorf("unmount %s: %w; detach failed too: %v (run fusermount3 -u -z %s)", dir, err, lerr, dir)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
	return nil
}

func lazyUnmount(dir string) error {
	if os.Geteuid() == 0 {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err == nil {
			return nil
		}
	}
	out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, out)
	}
	return nil
}

// slogWriter passes go-fuse's log lines to the slog logger.
type slogWriter struct {
	l     *slog.Logger
	level slog.Level
}

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Log(context.Background(), w.level, "fuse: "+strings.TrimSpace(string(p)))
	return len(p), nil
}

// fuseLogLevel: go-fuse logs only what seems off, unless asked to trace
// every request.
func fuseLogLevel(o Options) slog.Level {
	if o.Debug {
		return slog.LevelInfo
	}
	return slog.LevelWarn
}
