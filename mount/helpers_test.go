package mount_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/mount"
)

// requireFUSE skips when the kernel offers no FUSE device; every other
// missing piece is a failure.
func requireFUSE(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("the kernel offers no FUSE here (/dev/fuse: %v)", err)
	}
}

// mountCatalog mounts cat in a temporary directory with mount.Serve and
// returns the directory. The mount is taken down when the test ends, also
// when it fails, and the cleanup checks that nothing is left mounted.
func mountCatalog(t *testing.T, cat vfs.Catalog, o mount.Options) string {
	t.Helper()
	requireFUSE(t)
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	o.Ready = func() { close(ready) }
	done := make(chan error, 1)
	go func() { done <- mount.Serve(ctx, dir, cat, o) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Serve did not return 20 s after its context was cancelled")
		}
		if isMounted(t, dir) {
			t.Errorf("%s is still mounted after Serve returned", dir)
			forceUnmount(dir)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("Serve: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("mount not ready after 20 s")
	}
	if !isMounted(t, dir) {
		t.Fatalf("Ready was called but %s is not in /proc/self/mountinfo", dir)
	}
	return dir
}

// isMounted reports whether dir is a mount point in /proc/self/mountinfo.
func isMounted(t *testing.T, dir string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

func forceUnmount(dir string) { _ = syscall.Unmount(dir, syscall.MNT_DETACH) }
