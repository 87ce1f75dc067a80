package webui

import (
	"context"
	"iter"
	"net/http"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

const maxDiffs = 10000

// change is one difference between two snapshots.
type change struct {
	Kind string // "added", "removed", "changed"
	Key  string
	What string // what changed
	URL  string // the path in the snapshot that has it
}

func (s *server) diffPage(w http.ResponseWriter, r *http.Request) {
	an, bn := r.FormValue("a"), r.FormValue("b")
	if an == "" || bn == "" {
		s.errorPage(w, r, http.StatusBadRequest, "pick two snapshots (a and b)")
		return
	}
	cat := visitorOf(r).cat
	all, err := cat.Snapshots(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ai, aok := findInfo(all, an)
	bi, bok := findInfo(all, bn)
	if !aok || !bok {
		s.errorPage(w, r, http.StatusNotFound, "no such snapshot")
		return
	}
	if ai.Job != bi.Job {
		s.errorPage(w, r, http.StatusBadRequest, "the two snapshots belong to different jobs")
		return
	}
	if ai.Time.After(bi.Time) { // always old → new
		ai, bi = bi, ai
	}
	a, err := cat.OpenSnapshot(r.Context(), ai.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := cat.OpenSnapshot(r.Context(), bi.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, counts, capped, err := diff(r.Context(), a, b, ai.ShortID(), bi.ShortID())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "diff", map[string]any{
		"A": rowOf(ai), "B": rowOf(bi), "Changes": changes, "Counts": counts, "Capped": capped, "Max": maxDiffs,
	})
}

func findInfo(all []vfs.SnapshotInfo, name string) (vfs.SnapshotInfo, bool) {
	if len(name) < 8 {
		return vfs.SnapshotInfo{}, false
	}
	for _, si := range all {
		if strings.HasPrefix(si.ID, name) {
			return si, true
		}
	}
	return vfs.SnapshotInfo{}, false
}

// diff merge-joins two Walks in key order: one pass over each snapshot,
// no tree in memory. It counts every difference and keeps the first
// maxDiffs.
func diff(ctx context.Context, a, b vfs.FS, an, bn string) ([]change, map[string]int, bool, error) {
	counts := map[string]int{}
	var out []change
	emit := func(c change) {
		counts[c.Kind]++
		if len(out) < maxDiffs {
			out = append(out, c)
		}
	}
	na, stopA := iter.Pull2(a.Walk(ctx, ""))
	defer stopA()
	nb, stopB := iter.Pull2(b.Walk(ctx, ""))
	defer stopB()
	ea, erra, oka := na()
	eb, errb, okb := nb()
	for oka || okb {
		if erra != nil {
			return nil, nil, false, erra
		}
		if errb != nil {
			return nil, nil, false, errb
		}
		switch {
		case !okb || (oka && ea.Key < eb.Key):
			emit(change{Kind: "removed", Key: ea.Key, URL: snapURL("s", an, strings.TrimSuffix(ea.Key, "/"))})
			ea, erra, oka = na()
		case !oka || eb.Key < ea.Key:
			emit(change{Kind: "added", Key: eb.Key, URL: snapURL("s", bn, strings.TrimSuffix(eb.Key, "/"))})
			eb, errb, okb = nb()
		default:
			if what := differs(ea, eb); what != "" {
				emit(change{Kind: "changed", Key: eb.Key, What: what, URL: snapURL("s", bn, strings.TrimSuffix(eb.Key, "/"))})
			}
			ea, erra, oka = na()
			eb, errb, okb = nb()
		}
	}
	return out, counts, counts["added"]+counts["removed"]+counts["changed"] > len(out), nil
}

// differs names what changed between two entries of the same key; a
// directory's mtime alone is not a change worth listing (any change under
// it moves it).
func differs(a, b vfs.Entry) string {
	var what []string
	if a.Mode != b.Mode {
		what = append(what, "mode "+a.Mode.String()+" → "+b.Mode.String())
	}
	if a.IsDir() {
		return strings.Join(what, ", ")
	}
	if a.Size != b.Size {
		what = append(what, "size")
	} else if a.ETag != b.ETag {
		what = append(what, "content")
	}
	if !a.ModTime.Equal(b.ModTime) {
		what = append(what, "mtime")
	}
	if a.Target != b.Target {
		what = append(what, "link target")
	}
	return strings.Join(what, ", ")
}
