package plugin_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/importers/plugin"
	// The plugins are built by TestMain; importing what they are built
	// from makes go test's cache see a change there (not in example/tar,
	// a main package: run with -count=1 after changing it).
	_ "github.com/plakar-gw/plakar-gw/importers/plugin/sdk"
)

// bin holds the plugins built once for all the tests: testplugin (the fs
// importer, misbehaving as PLUGIN_MODE says) and tar (the example).
var bin string

func TestMain(m *testing.M) {
	if os.Getenv("PLUGIN_TEST_HOST") != "" {
		hostHelper()
		return
	}
	dir, err := os.MkdirTemp("", "plugin-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = dir
	cmd := exec.Command("go", "build", "-o", dir+"/",
		"github.com/plakar-gw/plakar-gw/importers/plugin/internal/testplugin",
		"github.com/plakar-gw/plakar-gw/importers/plugin/example/tar")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the test plugins:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func testPlugin() string { return filepath.Join(bin, "testplugin") }
func tarPlugin() string  { return filepath.Join(bin, "tar") }

// hostHelper is a plakar-gw stand-in for TestPluginDiesWithHost: it
// starts the plugin, prints its pid, and waits to be killed.
func hostHelper() {
	imp, err := plugin.New(context.Background(), plugin.Config{
		Path: os.Getenv("PLUGIN_TEST_HOST"), Location: os.TempDir(),
	})
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(plugin.PidOf(imp))
	time.Sleep(time.Hour)
}

// setMode runs the test plugin in a fault mode for this test.
func setMode(t *testing.T, mode string) {
	t.Setenv("PLUGIN_MODE", mode)
}

// gone waits until process pid no longer exists.
func gone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
			return
		}
		// A zombie is dead but answers kill 0 until its parent reaps it,
		// and an orphan's new parent (PID 1 of a container) may never do.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && zombie(string(b)) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("plugin process %d still exists", pid)
}

// zombie reads the state field of /proc/PID/stat, after the ")" that
// ends the command name.
func zombie(stat string) bool {
	i := strings.LastIndexByte(stat, ')')
	return i >= 0 && strings.HasPrefix(stat[i+1:], " Z")
}
