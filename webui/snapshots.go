package webui

import (
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// snapRow is one snapshot as the tables show it.
type snapRow struct {
	vfs.SnapshotInfo
	Short  string
	Ratio  string
	Trust  string // css class of the signature status
	Errors uint64
}

func rowOf(si vfs.SnapshotInfo) snapRow {
	trust := "unsigned"
	switch {
	case strings.HasSuffix(si.Signed, "trusted"): // "signed by KEYID, trusted"
		trust = "trusted"
	case strings.HasPrefix(si.Signed, "signed"):
		trust = "signed"
	case si.Signed == "invalid":
		trust = "invalid"
	}
	return snapRow{SnapshotInfo: si, Short: si.ShortID(), Ratio: ratioText(si), Trust: trust, Errors: si.Summary.Subtree.Errors}
}

func (s *server) snapshotsPage(w http.ResponseWriter, r *http.Request) {
	all, err := visitorOf(r).cat.Snapshots(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	job, tag, order := r.FormValue("job"), r.FormValue("tag"), r.FormValue("sort")
	jobs, tags := map[string]bool{}, map[string]bool{}
	var rows []snapRow
	for _, si := range all {
		jobs[si.Job] = true
		for _, t := range si.Tags {
			tags[t] = true
		}
		if (job != "" && si.Job != job) || (tag != "" && !slices.Contains(si.Tags, tag)) {
			continue
		}
		rows = append(rows, rowOf(si))
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if order == "time" {
			return rows[i].Time.Before(rows[j].Time)
		}
		return rows[i].Time.After(rows[j].Time)
	})
	next := "time"
	if order == "time" {
		next = "-time"
	}
	s.render(w, r, http.StatusOK, "snapshots", map[string]any{
		"Rows": rows, "Jobs": sortedKeys(jobs), "Tags": sortedKeys(tags),
		"Job": job, "Tag": tag, "Sort": order, "NextSort": next, "Total": len(all),
	})
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jobPage shows a job's snapshots oldest first, its chart over time and
// the diff picker.
func (s *server) jobPage(w http.ResponseWriter, r *http.Request) {
	job := r.PathValue("job")
	all, err := visitorOf(r).cat.Snapshots(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var snaps []vfs.SnapshotInfo
	for _, si := range all {
		if si.Job == job {
			snaps = append(snaps, si)
		}
	}
	if len(snaps) == 0 {
		s.errorPage(w, r, http.StatusNotFound, "no snapshot of this job")
		return
	}
	sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].Time.Before(snaps[j].Time) })
	rows := make([]snapRow, len(snaps))
	for i, si := range snaps {
		rows[i] = rowOf(si)
	}
	s.render(w, r, http.StatusOK, "job", map[string]any{
		"Job": job, "Rows": rows,
		"SizeChart":  template.HTML(sizeChart(snaps)),
		"RatioChart": template.HTML(ratioChart(snaps)),
	})
}
