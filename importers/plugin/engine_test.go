package plugin_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/restore"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/importers/plugin"
)

// ingestPlugin ingests through a plugin importer, the way plakar-gw does.
func ingestPlugin(t *testing.T, r *engine.Repository, cfg plugin.Config, job string) (*snapshot.Snapshot, int, error) {
	t.Helper()
	imp, err := plugin.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pid := plugin.PidOf(imp)
	s, err := r.Ingest(t.Context(), imp, engine.IngestOptions{Job: job})
	if cerr := imp.Close(); cerr != nil && err == nil {
		t.Errorf("Close: %v", cerr)
	}
	gone(t, pid)
	return s, pid, err
}

// restoreSnapshot restores snapshot id into a new folder.
func restoreSnapshot(t *testing.T, r *engine.Repository, id string) string {
	t.Helper()
	fsys, err := r.OpenSnapshot(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	rep, err := restore.Restore(context.Background(), fsys, ".", dst, restore.Options{})
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	for _, e := range rep.Errors {
		t.Errorf("restore error: %v", e)
	}
	return dst
}

// compareTrees checks that dst holds what src holds: the same paths,
// types, permission bits, sizes, content, symlink targets, owners,
// nanosecond mtimes, hardlink counts and user xattrs.
func compareTrees(t *testing.T, src, dst string) {
	t.Helper()
	var srcPaths, dstPaths []string
	walk := func(root string, out *[]string) {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				t.Errorf("walk: %v", err)
				return nil
			}
			rel, _ := filepath.Rel(root, p)
			*out = append(*out, rel)
			return nil
		})
	}
	walk(src, &srcPaths)
	walk(dst, &dstPaths)
	if len(srcPaths) < 50 {
		t.Fatalf("only %d paths in the source: not the acceptance tree", len(srcPaths))
	}
	if !slices.Equal(srcPaths, dstPaths) {
		t.Fatalf("paths differ:\nsource   %q\nrestored %q", srcPaths, dstPaths)
	}
	for _, rel := range srcPaths {
		a, b := filepath.Join(src, rel), filepath.Join(dst, rel)
		var sa, sb unix.Stat_t
		if err := unix.Lstat(a, &sa); err != nil {
			t.Fatal(err)
		}
		if err := unix.Lstat(b, &sb); err != nil {
			t.Fatal(err)
		}
		if sa.Mode != sb.Mode || sa.Uid != sb.Uid || sa.Gid != sb.Gid || sa.Size != sb.Size || sa.Nlink != sb.Nlink {
			t.Errorf("%q: mode %o uid %d gid %d size %d nlink %d; restored %o %d %d %d %d",
				rel, sa.Mode, sa.Uid, sa.Gid, sa.Size, sa.Nlink, sb.Mode, sb.Uid, sb.Gid, sb.Size, sb.Nlink)
		}
		if rel != "." && sa.Mtim != sb.Mtim {
			t.Errorf("%q: mtime %v; restored %v", rel, time.Unix(sa.Mtim.Unix()), time.Unix(sb.Mtim.Unix()))
		}
		switch sa.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			ca, _ := os.ReadFile(a)
			cb, _ := os.ReadFile(b)
			if !bytes.Equal(ca, cb) {
				t.Errorf("%q: content differs", rel)
			}
		case unix.S_IFLNK:
			la, _ := os.Readlink(a)
			lb, _ := os.Readlink(b)
			if la != lb {
				t.Errorf("%q: target %q; restored %q", rel, la, lb)
			}
		}
		if xa, xb := userXattrs(a), userXattrs(b); !slices.Equal(xa, xb) {
			t.Errorf("%q: xattrs %q; restored %q", rel, xa, xb)
		}
	}
}

func userXattrs(p string) []string {
	buf := make([]byte, 4096)
	n, err := unix.Llistxattr(p, buf)
	if err != nil {
		return nil
	}
	var out []string
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if strings.HasPrefix(name, "user.") {
			v := make([]byte, 4096)
			m, _ := unix.Lgetxattr(p, name, v)
			out = append(out, name+"="+string(v[:max(m, 0)]))
		}
	}
	slices.Sort(out)
	return out
}

// TestTarRoundTrip is the first acceptance line: the example plugin,
// built by the test, ingests a real tar archive of the acceptance tree
// (made by GNU tar); the snapshot is restored and compared with the tree.
func TestTarRoundTrip(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Fatalf("GNU tar is needed: %v", err)
	}
	big := int64(64 << 20)
	if testing.Short() {
		big = 4 << 20
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: big, Many: 300}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "tree.tar.gz")
	out, err := exec.Command("tar", "--format=pax", "--xattrs", "--xattrs-include=user.*", "--numeric-owner",
		"-C", src, "-czf", archive, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	r, _ := enginetest.NewRepo(t)
	s, _, err := ingestPlugin(t, r, plugin.Config{Path: tarPlugin(), Location: "tar://" + archive}, "tar")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Header.Complete || s.Header.Importer != "tar" || s.Header.Origin != "tar://"+archive {
		t.Fatalf("snapshot: complete %v, importer %q, origin %q", s.Header.Complete, s.Header.Importer, s.Header.Origin)
	}
	compareTrees(t, src, restoreSnapshot(t, r, s.ID.String()))

	// A second ingest of the same archive reuses every file.
	s2, _, err := ingestPlugin(t, r, plugin.Config{Path: tarPlugin(), Location: "tar://" + archive}, "tar")
	if err != nil {
		t.Fatal(err)
	}
	if s2.Header.Root != s.Header.Root {
		t.Errorf("second ingest of the same archive gave another tree")
	}
}

// TestFaults is the second acceptance line: a plugin that exits mid-scan,
// one that stops answering, and ones that send bad records each end the
// ingest with a clear error, leave no process, write no snapshot, and do
// not harm the snapshot written before.
func TestFaults(t *testing.T) {
	src := t.TempDir()
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: 1 << 20, Many: 50}); err != nil {
		t.Fatal(err)
	}
	r, _ := enginetest.NewRepo(t)
	good, _, err := ingestPlugin(t, r, plugin.Config{Path: testPlugin(), Location: src}, "job")
	if err != nil || !good.Header.Complete {
		t.Fatalf("good ingest: %v", err)
	}
	cases := []struct{ mode, want string }{
		{"crash", "exited with status 3 during Scan; its last words on stderr: testplugin: crashing on purpose"},
		{"hang", "Scan: no answer for 1s (option idle_timeout)"},
		{"malformed", `sent bad data, scan abandoned: record "/sub/b": unknown file type 42`},
		{"dotdot", `sent bad data, scan abandoned: path "/sub/../../etc/passwd" is not clean`},
		{"unordered", `sent bad data, scan abandoned: "/x/y" is out of order`},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			setMode(t, c.mode)
			start := time.Now()
			// Only the hang waits for the idle timeout; the others must
			// fail on their own, whatever the timeout.
			opts := map[string]string{}
			if c.mode == "hang" {
				opts["idle_timeout"] = "1s"
			}
			s, _, err := ingestPlugin(t, r, plugin.Config{Path: testPlugin(), Location: src, Options: opts}, "job")
			if err == nil {
				t.Fatalf("ingest succeeded: snapshot %s complete=%v", s.ID, s.Header.Complete)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			t.Logf("%s: %v (%v)", c.mode, err, time.Since(start).Round(time.Millisecond))
			snaps, _, err := r.ListSnapshots(t.Context())
			if err != nil || len(snaps) != 1 {
				t.Errorf("snapshots after the failed ingest: %d, %v; want only the first", len(snaps), err)
			}
		})
	}

	// Open that never answers: every file is a per-path error, so the
	// snapshot says it is incomplete.
	t.Run("hangopen", func(t *testing.T) {
		setMode(t, "hangopen")
		s, _, err := ingestPlugin(t, r, plugin.Config{Path: testPlugin(), Location: src,
			Options: map[string]string{"idle_timeout": "200ms"}}, "hangopen")
		if err != nil {
			t.Fatalf("ingest: %v", err)
		}
		if s.Header.Complete || s.Header.Summary.Subtree.Errors == 0 {
			t.Errorf("snapshot complete=%v with %d errors; want incomplete", s.Header.Complete, s.Header.Summary.Subtree.Errors)
		}
	})

	compareTrees(t, src, restoreSnapshot(t, r, good.ID.String()))
}

// TestCancelKills: the context given to New ends the plugin process.
func TestCancelKills(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	imp, err := plugin.New(ctx, plugin.Config{Path: testPlugin(), Location: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	pid := plugin.PidOf(imp)
	cancel()
	gone(t, pid)
	if err := syscall.Kill(pid, 0); err == nil {
		t.Logf("pid %d is a zombie until Close reaps it", pid)
	}
}
