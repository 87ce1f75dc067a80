package plugin_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/plakar-gw/plakar-gw/importers/importertest"
	"github.com/plakar-gw/plakar-gw/importers/plugin"
)

// logBuffer collects what the host logs, for the stderr forwarding test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newImporter(t *testing.T, cfg plugin.Config) *plugin.Importer {
	t.Helper()
	imp, err := plugin.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pid := plugin.PidOf(imp)
		if err := imp.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		gone(t, pid)
	})
	return imp
}

// tarFixture writes fix as a .tar.gz for the tar plugin.
func tarFixture(t *testing.T, fix importertest.Fixture) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "fixture.tar.gz")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	tw := tar.NewWriter(zw)
	for _, d := range fix.Dirs {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: 0o755})
	}
	for _, p := range slices.Sorted(maps.Keys(fix.Files)) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: p[1:], Mode: 0o644, Size: int64(len(fix.Files[p]))})
		io.WriteString(tw, fix.Files[p])
	}
	for _, c := range []io.Closer{tw, zw, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return name
}

// TestConformanceTar runs the importer suite on the example plugin,
// through the host and a real plugin process.
func TestConformanceTar(t *testing.T) {
	fix := importertest.DefaultFixture()
	imp := newImporter(t, plugin.Config{Path: tarPlugin(), Location: "tar://" + tarFixture(t, fix)})
	if imp.Type() != "tar" || !strings.HasPrefix(imp.Origin(), "tar:///") {
		t.Errorf("Type %q, Origin %q", imp.Type(), imp.Origin())
	}
	importertest.Run(t, fix, imp)
}

// TestConformanceLocalFS runs the suite on the fs importer served by the
// SDK: what the fs importer passes in-process it must pass as a plugin.
func TestConformanceLocalFS(t *testing.T) {
	fix := importertest.DefaultFixture()
	dir := t.TempDir()
	if err := importertest.Materialize(dir, fix); err != nil {
		t.Fatal(err)
	}
	imp := newImporter(t, plugin.Config{Path: testPlugin(), Location: dir})
	importertest.Run(t, fix, imp)
}

func TestDescribe(t *testing.T) {
	info, err := plugin.Describe(t.Context(), tarPlugin(), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "tar" || info.Version == "" || !slices.Equal(info.Schemes, []string{"tar"}) || len(info.Options) != 1 {
		t.Errorf("Describe = %+v", info)
	}
}

// TestOptions: declared options reach the plugin, an unknown one is
// refused by the host, and the plugin's stderr lands in the log with its
// name.
func TestOptions(t *testing.T) {
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	imp := newImporter(t, plugin.Config{Path: testPlugin(), Location: t.TempDir(),
		Options: map[string]string{"note": "hello from the options", "idle_timeout": "5s"}, Logger: log})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "hello from the options") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := logs.String(); !strings.Contains(s, "note: hello from the options") || !strings.Contains(s, "plugin=localfs") {
		t.Errorf("log %q; want the plugin's stderr line with plugin=localfs", s)
	}
	imp.Close()

	for _, opts := range []map[string]string{{"nope": "1"}, {"idle_timeout": "soon"}} {
		imp, err := plugin.New(t.Context(), plugin.Config{Path: testPlugin(), Location: t.TempDir(), Options: opts})
		if err == nil {
			imp.Close()
			t.Errorf("options %v accepted", opts)
		} else {
			t.Logf("options %v: %v", opts, err)
		}
	}
}

// TestStartFaults: an old plugin, one that never says hello, and a
// program that is no plugin at all each give a clear error, quickly, and
// leave no process behind.
func TestStartFaults(t *testing.T) {
	cases := []struct{ mode, want string }{
		{"version", "speaks importer protocol version 99; this plakar-gw supports 1"},
		{"silent", "no handshake within 2s"},
		{"notplugin", "not a plakar-gw importer plugin"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			setMode(t, c.mode)
			children(t) // skips without /proc/PID/task/TID/children
			before := allChildren()
			start := time.Now()
			imp, err := plugin.New(t.Context(), plugin.Config{Path: testPlugin(), Location: t.TempDir(), HandshakeTimeout: 2 * time.Second})
			if err == nil {
				imp.Close()
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q; want it to say %q", err, c.want)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("took %v", d)
			}
			noNewChildren(t, before)
		})
	}
	if _, err := plugin.New(t.Context(), plugin.Config{Path: filepath.Join(bin, "missing")}); err == nil {
		t.Error("a missing executable was accepted")
	}
}

// children lists the processes whose parent is this test process.
func children(t *testing.T) []int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children")
	if err != nil {
		t.Skipf("cannot list child processes (needs /proc/PID/task/TID/children): %v", err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// noNewChildren checks that every plugin started since before is gone.
func noNewChildren(t *testing.T, before []int) {
	t.Helper()
	for _, pid := range allChildren() {
		if !slices.Contains(before, pid) {
			gone(t, pid)
		}
	}
}

// allChildren reads the children of every thread: Go starts processes
// from any of them.
func allChildren() []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
	}
	return out
}

// TestPluginDiesWithHost kills a host process with SIGKILL: its plugin
// must not survive it.
func TestPluginDiesWithHost(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), "PLUGIN_TEST_HOST="+testPlugin())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("host helper: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("host helper said %q", line)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Fatalf("plugin %d not running before the host dies: %v", pid, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	gone(t, pid)
}

// TestOpenErrors: a missing file is fs.ErrNotExist, a directory is no
// file, and a closed importer fails cleanly.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "d"), 0o755)
	imp := newImporter(t, plugin.Config{Path: testPlugin(), Location: dir})
	if _, err := imp.Open(t.Context(), "/missing"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open missing: %v", err)
	}
	if _, err := imp.Open(t.Context(), "/d"); err == nil {
		t.Error("Open of a directory succeeded")
	}
	imp.Close()
	if _, err := imp.Open(context.Background(), "/x"); err == nil {
		t.Error("Open after Close succeeded")
	}
	for range imp.Scan(context.Background()) {
	}
}

// TestConformanceNoSmall: a plugin without ReadSmall still passes, every
// file through Open.
func TestConformanceNoSmall(t *testing.T) {
	setMode(t, "nosmall")
	fix := importertest.DefaultFixture()
	dir := t.TempDir()
	if err := importertest.Materialize(dir, fix); err != nil {
		t.Fatal(err)
	}
	importertest.Run(t, fix, newImporter(t, plugin.Config{Path: testPlugin(), Location: dir}))
}

// TestSmallFileIsBig: a file the scan says is small but is not is read
// whole (ReadSmall says too big, Open takes over).
func TestSmallFileIsBig(t *testing.T) {
	setMode(t, "smallsizes")
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789"), 100_000)
	os.WriteFile(filepath.Join(dir, "f"), big, 0o644)
	imp := newImporter(t, plugin.Config{Path: testPlugin(), Location: dir})
	for rec, err := range imp.Scan(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Path == "/f" && rec.Size != 1 {
			t.Fatalf("the test plugin did not lie: size %d", rec.Size)
		}
	}
	rc, err := imp.Open(t.Context(), "/f")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("read %d bytes, %v; want %d", len(got), err, len(big))
	}
}

// TestPrefetchBound: a scan whose files are never opened (an unchanged
// tree: the engine reuses the previous snapshot's) makes the prefetcher
// read at most its window; a scan whose files are all opened has them all
// read ahead.
func TestPrefetchBound(t *testing.T) {
	setMode(t, "countsmall")
	dir := t.TempDir()
	const n = 1500
	for i := range n {
		os.WriteFile(filepath.Join(dir, "f"+strconv.Itoa(i)), []byte("x"), 0o644)
	}
	read := func(logs *logBuffer) int {
		total := 0
		for _, line := range strings.Split(logs.String(), "\n") {
			if _, after, ok := strings.Cut(line, "msg=\"readsmall "); ok {
				k, _ := strconv.Atoi(strings.TrimSuffix(strings.Fields(after)[0], "\""))
				total += k
			}
		}
		return total
	}
	for _, open := range []bool{false, true} {
		var logs logBuffer
		imp := newImporter(t, plugin.Config{Path: testPlugin(), Location: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		var paths []string
		for rec, err := range imp.Scan(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Mode.IsRegular() {
				paths = append(paths, rec.Path)
			}
		}
		if open {
			for _, p := range paths {
				rc, err := imp.Open(t.Context(), p)
				if err != nil {
					t.Fatal(err)
				}
				rc.Close()
			}
		}
		time.Sleep(300 * time.Millisecond) // let prefetches in flight finish
		imp.Close()
		got := read(&logs)
		switch {
		case !open && (got == 0 || got > 256):
			t.Errorf("nothing opened: %d files read ahead; want 1 to 256", got)
		case open && got != n:
			t.Errorf("every file opened: %d files read by ReadSmall; want %d", got, n)
		}
		t.Logf("open=%v: %d files read by ReadSmall", open, got)
	}
}
