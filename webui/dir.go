package webui

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const (
	maxErrorsShown = 1000
	maxBarDirs     = 256 // subdirectories whose summaries the chart reads
	barsShown      = 12
)

// row is one entry of a directory page.
type row struct {
	Name    string
	URL     string // its page
	RawURL  string // download, regular files only
	Entry   vfs.Entry
	IsDir   bool
	IsLink  bool
	Regular bool
}

func (s *server) browse(w http.ResponseWriter, r *http.Request) {
	snap, view, err := openSnap(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := reqPath(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := r.PathValue("snap")
	st, err := snap.Lstat(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		s.filePage(w, r, snap, view, name, p, st)
		return
	}
	rp, err := realPath(snap, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rp != p { // reached through a linked directory: list it by its keys
		u := snapURL("s", name, rp)
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, u, http.StatusFound)
		return
	}
	if !st.IsDir() {
		s.filePage(w, r, snap, view, name, p, st)
		return
	}
	s.dirPage(w, r, snap, name, p)
}

func (s *server) dirPage(w http.ResponseWriter, r *http.Request, snap vfs.FS, name, p string) {
	ctx := r.Context()
	after, q := r.FormValue("after"), r.FormValue("q")
	match := func(string) bool { return true }
	if q != "" {
		lq := strings.ToLower(q)
		match = func(n string) bool { return strings.Contains(strings.ToLower(n), lq) }
	}
	entries, more, err := listDir(ctx, snap, p, after, s.o.PageSize, match)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sum, err := snap.Summary(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var errs []vfs.PathError
	for pe, err := range snap.Errors(p) {
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(errs) == maxErrorsShown {
			break
		}
		errs = append(errs, pe)
	}
	bars, err := largestSubdirs(ctx, snap, name, p, sum)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := make([]row, len(entries))
	for i, e := range entries {
		n := strings.TrimSuffix(e.Key[len(dirKey(p)):], "/")
		rows[i] = row{Name: n, URL: snapURL("s", name, joinPath(p, n)), Entry: e,
			IsDir: e.IsDir(), IsLink: e.Mode&fs.ModeSymlink != 0, Regular: e.Mode.IsRegular()}
		if rows[i].Regular {
			rows[i].RawURL = snapURL("raw", name, joinPath(p, n))
		}
	}
	data := map[string]any{
		"Snap": name, "Path": p, "Crumbs": breadcrumb(name, p), "Rows": rows, "Summary": sum,
		"Errors": errs, "MoreErrors": uint64(len(errs)) < sum.Subtree.Errors, "Q": q, "After": after,
		"Total":      sum.Self.Files + sum.Self.Dirs + sum.Self.Symlinks + sum.Self.Others,
		"SelectURL":  snapURL("select", name, p),
		"ArchiveURL": snapURL("archive", name, p),
		"Chart":      template.HTML(barChart(barTitle(sum), bars)),
		"Largest":    largestURL(name, sum.Subtree.LargestFile),
	}
	if more {
		v := url.Values{"after": {entries[len(entries)-1].Key[len(dirKey(p)):]}}
		if q != "" {
			v.Set("q", q)
		}
		data["NextURL"] = snapURL("s", name, p) + "?" + v.Encode()
	}
	if info, ok := s.snapInfo(r, snap, name); ok {
		data["Info"] = rowOf(info)
	}
	s.render(w, r, http.StatusOK, "dir", data)
}

// snapInfo finds the description of the snapshot being browsed.
func (s *server) snapInfo(r *http.Request, _ vfs.FS, name string) (vfs.SnapshotInfo, bool) {
	all, err := visitorOf(r).cat.Snapshots(r.Context())
	if err != nil {
		return vfs.SnapshotInfo{}, false
	}
	job, latest := strings.CutSuffix(name, "-latest")
	for _, si := range all { // newest first
		if strings.HasPrefix(si.ID, name) || (latest && si.Job == job) {
			return si, true
		}
	}
	return vfs.SnapshotInfo{}, false
}

func barTitle(sum vfs.Summary) string {
	if sum.Self.Dirs > maxBarDirs {
		return fmt.Sprintf("Largest of the first %d subdirectories (subtree bytes)", maxBarDirs)
	}
	return "Largest subdirectories (subtree bytes)"
}

func largestURL(snap, abs string) string {
	if abs == "" {
		return ""
	}
	return snapURL("s", snap, strings.TrimPrefix(abs, "/"))
}

// listDir returns up to n children of dir that match, in key order,
// starting after the child key after ("name" or "name/"), and whether more
// follow. Each child directory's subtree is skipped with a new seek, so a
// page costs its own entries plus a few node reads per subdirectory, never
// a scan of the subtrees.
func listDir(ctx context.Context, snap vfs.FS, dir, after string, n int, match func(string) bool) ([]vfs.Entry, bool, error) {
	prefix := dirKey(dir)
	from := prefix + after
	if after != "" && strings.HasSuffix(after, "/") {
		from = subtreeEnd(from)
	}
	var out []vfs.Entry
	for {
		restart := ""
		for e, err := range snap.Walk(ctx, from) {
			if err != nil {
				return nil, false, err
			}
			if !strings.HasPrefix(e.Key, prefix) {
				return out, false, nil
			}
			child := strings.TrimSuffix(e.Key[len(prefix):], "/")
			if strings.Contains(child, "/") {
				continue // inside a subtree: only when after pointed into one
			}
			if match(child) {
				if len(out) == n {
					return out, true, nil
				}
				out = append(out, e)
			}
			if e.IsDir() {
				restart = subtreeEnd(e.Key)
				break
			}
		}
		if restart == "" {
			return out, false, nil
		}
		from = restart
	}
}

// largestSubdirs reads the summaries of dir's subdirectories (the first
// maxBarDirs of them) and returns the biggest, with the files directly in
// dir as one more bar.
func largestSubdirs(ctx context.Context, snap vfs.FS, name, dir string, sum vfs.Summary) ([]bar, error) {
	if sum.Self.Dirs == 0 {
		return nil, nil
	}
	var bars []bar
	from, prefix := dirKey(dir), dirKey(dir)
	for len(bars) < maxBarDirs && uint64(len(bars)) < sum.Self.Dirs {
		next := ""
		for e, err := range snap.Walk(ctx, from) {
			if err != nil {
				return nil, err
			}
			if !strings.HasPrefix(e.Key, prefix) {
				break
			}
			if e.IsDir() {
				child := strings.TrimSuffix(e.Key, "/")
				cs, err := snap.Summary(child)
				if err != nil {
					return nil, err
				}
				n := child[len(prefix):]
				bars = append(bars, bar{label: n + "/", url: snapURL("s", name, child), value: cs.Subtree.Bytes})
				next = subtreeEnd(e.Key)
				break
			}
		}
		if next == "" {
			break
		}
		from = next
	}
	sort.SliceStable(bars, func(i, j int) bool { return bars[i].value > bars[j].value })
	if len(bars) > barsShown {
		bars = bars[:barsShown]
	}
	if sum.Self.Bytes > 0 {
		bars = append(bars, bar{label: "(files directly here)", value: sum.Self.Bytes})
	}
	return bars, nil
}
