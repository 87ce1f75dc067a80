package webui_test

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/enginetest"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	fsimporter "github.com/plakar-gw/plakar-gw/importers/fs"
	"github.com/plakar-gw/plakar-gw/webui"
)

// hookImporter fails to open one path, as an unreadable file would, so
// that the snapshot records an ingest error.
type hookImporter struct {
	*fsimporter.Importer
	bad string
}

func (h *hookImporter) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if p == h.bad {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrPermission}
	}
	return h.Importer.Open(ctx, p)
}

// realFixture is a real repository holding three snapshots of job
// "tricky": the tricky tree, the same with one more file, and the same
// again with an unreadable file (an ingest error).
type realFixture struct {
	repo  *engine.Repository
	src   string             // the tree of the first snapshot
	snaps []vfs.SnapshotInfo // oldest first
	bad   string             // the path that failed in the third
}

func newRealFixture(t testing.TB, bigSize int64) *realFixture {
	t.Helper()
	repo, _ := enginetest.NewRepo(t)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.Mkdir(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := enginetest.TrickyTree(src, enginetest.Tricky{BigSize: bigSize, Many: 50}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-3 * time.Hour)
	enginetest.Ingest(t, repo, src, engine.IngestOptions{Job: "tricky", Time: base, Tags: []string{"first"}})
	// Later snapshots read a copy, so that the first one's tree stays
	// what src holds.
	src2 := filepath.Join(t.TempDir(), "src2")
	if out, err := exec_cp(src, src2); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := enginetest.WriteFile(filepath.Join(src2, "nested", "added.txt"), enginetest.TextData(9, 3000)); err != nil {
		t.Fatal(err)
	}
	enginetest.Ingest(t, repo, src2, engine.IngestOptions{Job: "tricky", Time: base.Add(time.Hour)})
	imp, err := fsimporter.New(context.Background(), fsimporter.Config{Root: src2})
	if err != nil {
		t.Fatal(err)
	}
	defer imp.Close()
	bad := "/nested/a/b/c/d/deep.txt"
	if _, err := repo.Ingest(context.Background(), &hookImporter{imp, bad}, engine.IngestOptions{Job: "tricky", Time: base.Add(2 * time.Hour), NoParent: true}); err != nil {
		t.Fatal(err)
	}
	snaps, err := repo.Snapshots(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(snaps)
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots", len(snaps))
	}
	return &realFixture{repo: repo, src: src, snaps: snaps, bad: bad}
}

func exec_cp(src, dst string) ([]byte, error) {
	return execCommand("cp", "-a", src, dst)
}

// TestRealEngine runs the handlers over a real repository: every
// directory of the tricky tree lists its entries, every file downloads
// with its bytes, and the snapshot's zip holds the tree.
func TestRealEngine(t *testing.T) {
	big := int64(8 << 20)
	if testing.Short() {
		big = 1 << 20
	}
	fx := newRealFixture(t, big)
	srv := newServer(t, fx.repo, webui.Options{Users: map[string][]byte{"u": hash(t, "p")}})
	c := loggedIn(t, srv, "u", "p")
	snap := fx.snaps[0].ShortID()

	t.Run("directories", func(t *testing.T) {
		filepath.WalkDir(fx.src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(fx.src, p)
			des, _ := os.ReadDir(p)
			var want []string
			for _, de := range des {
				want = append(want, de.Name())
			}
			resp, body := c.get(escPath("s", snap, filepath.ToSlash(rel)))
			got := rowNames(body)
			sort.Strings(got)
			if resp.StatusCode != 200 || !slices.Equal(got, want) {
				t.Errorf("dir %q: %s, entries %q, want %q", rel, resp.Status, got, want)
			}
			return nil
		})
	})

	// Small pages: every page boundary that falls after a directory makes
	// the next page seek past that directory's subtree.
	t.Run("paging", func(t *testing.T) {
		small := newClient(t, newServer(t, fx.repo, webui.Options{Anonymous: true, PageSize: 3}))
		for _, dir := range []string{".", "nested", "nested/a"} {
			des, _ := os.ReadDir(filepath.Join(fx.src, dir))
			var want, got []string
			for _, de := range des {
				want = append(want, de.Name())
			}
			next := escPath("s", snap, dir)
			for pages := 0; next != ""; pages++ {
				if pages > len(want) {
					t.Fatalf("%s: too many pages", dir)
				}
				resp, body := small.get(next)
				if resp.StatusCode != 200 {
					t.Fatalf("%s: %s", next, resp.Status)
				}
				got = append(got, rowNames(body)...)
				next = ""
				if m := nextRE.FindSubmatch(body); m != nil {
					next = htmlUnescape(string(m[1]))
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, want) {
				t.Errorf("%s in pages of 3: %q, want %q", dir, got, want)
			}
		}
	})

	t.Run("files", func(t *testing.T) {
		n := 0
		filepath.WalkDir(fx.src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			rel, _ := filepath.Rel(fx.src, p)
			want, err := os.ReadFile(p)
			if err != nil {
				return nil // mode 000 without privileges
			}
			resp, body := c.get(escPath("raw", snap, filepath.ToSlash(rel)))
			if resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Errorf("file %q: %s, %d bytes, want %d", rel, resp.Status, len(body), len(want))
			}
			n++
			return nil
		})
		if n < 60 {
			t.Errorf("only %d files compared", n)
		}
		resp, body := c.get(escPath("raw", snap, "big.bin"), "Range", "bytes=100000-100099")
		want, _ := os.ReadFile(filepath.Join(fx.src, "big.bin"))
		if resp.StatusCode != 206 || !bytes.Equal(body, want[100000:100100]) {
			t.Errorf("range of big.bin: %s", resp.Status)
		}
	})

	t.Run("zip", func(t *testing.T) {
		resp, body := c.get("/archive/" + snap + "/")
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		compareArchive(t, fx.src, "snapshot-"+snap, readZip(t, body), time.Second)
		resp, body = c.get("/archive/" + snap + "/?format=tar.gz")
		if resp.StatusCode != 200 {
			t.Fatal(resp.Status)
		}
		compareArchive(t, fx.src, "snapshot-"+snap, readTarGz(t, body), time.Nanosecond)
	})

	t.Run("errors and chart", func(t *testing.T) {
		_, body := c.get("/s/" + fx.snaps[2].ShortID() + "/nested")
		mustContain(t, "dir page of the incomplete snapshot", body, `id="ingest-errors"`, fx.bad, "permission denied")
		_, body = c.get("/job/tricky")
		if n := len(pointRE.FindAll(body, -1)); n != 3 {
			t.Errorf("job chart has %d points, want 3", n)
		}
		_, body = c.get("/diff?a=" + fx.snaps[0].ShortID() + "&b=" + fx.snaps[2].ShortID())
		mustContain(t, "diff", body, "nested/added.txt", "nested/a/b/c/d/deep.txt")
	})
}

// compareArchive checks that an archive of src under top holds every
// regular file, directory and symlink of src with its bytes, mode and
// mtime (FIFOs are left out by design).
func compareArchive(t *testing.T, src, top string, got map[string]zipEntry, prec time.Duration) {
	t.Helper()
	seen := 0
	filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		name := top + "/" + filepath.ToSlash(rel)
		if rel == "." {
			name = top
		}
		st, _ := os.Lstat(p)
		switch {
		case st.IsDir():
			name += "/"
		case st.Mode()&fs.ModeNamedPipe != 0:
			if _, ok := got[name]; ok {
				t.Errorf("%s: a FIFO in the archive", rel)
			}
			return nil
		}
		g, ok := got[name]
		if !ok {
			t.Errorf("%q missing from the archive", name)
			return nil
		}
		seen++
		if g.mode != st.Mode() && !st.IsDir() {
			t.Errorf("%q: mode %v, want %v", rel, g.mode, st.Mode())
		}
		if !g.mtime.Truncate(prec).Equal(st.ModTime().Truncate(prec)) && rel != "." {
			t.Errorf("%q: mtime %v, want %v", rel, g.mtime, st.ModTime())
		}
		switch {
		case st.Mode().IsRegular():
			if want, err := os.ReadFile(p); err == nil && g.data != string(want) {
				t.Errorf("%q: %d bytes, want %d", rel, len(g.data), len(want))
			}
		case st.Mode()&fs.ModeSymlink != 0:
			if target, _ := os.Readlink(p); g.data != target {
				t.Errorf("%q: link to %q, want %q", rel, g.data, target)
			}
		}
		return nil
	})
	if seen != len(got) {
		t.Errorf("archive holds %d entries, %d compared", len(got), seen)
	}
}
