package mount_test

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plakar-gw/plakar-gw/engine/vfs/vfstest"
	"github.com/plakar-gw/plakar-gw/mount"
)

// TestUnmountWhenTestFails runs a test that mounts and then fails, in a
// child process, and checks that its mount is gone when it exits.
func TestUnmountWhenTestFails(t *testing.T) {
	requireFUSE(t)
	if os.Getenv("MOUNT_TEST_FAILING_CHILD") == "1" {
		t.Skip("only run by TestUnmountWhenTestFails")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailingChild$", "-test.v")
	cmd.Env = append(os.Environ(), "MOUNT_TEST_FAILING_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing child passed:\n%s", out)
	}
	var dir string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if _, d, ok := strings.Cut(sc.Text(), "mounted at "); ok {
			dir = strings.TrimSpace(d)
		}
	}
	if dir == "" || !strings.Contains(string(out), "failing on purpose") {
		t.Fatalf("the child did not mount and fail as planned:\n%s", out)
	}
	t.Logf("the child mounted %s and failed; it is unmounted", dir)
	if isMounted(t, dir) {
		forceUnmount(dir)
		t.Fatalf("%s is still mounted after the failed test", dir)
	}
}

// TestFailingChild mounts and fails; only TestUnmountWhenTestFails runs it.
func TestFailingChild(t *testing.T) {
	if os.Getenv("MOUNT_TEST_FAILING_CHILD") != "1" {
		t.Skip("run by TestUnmountWhenTestFails in a child process")
	}
	s := &vfstest.Snapshot{Info: vfstest.Info(9, "x", t0), Files: fstest.MapFS{"f": {Data: []byte("x")}}}
	dir := mountCatalog(t, vfstest.New(s), mount.Options{})
	t.Logf("mounted at %s", dir)
	t.Fatal("failing on purpose")
}
