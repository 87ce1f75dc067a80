package webui

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Charts are SVG written here, on the server: no library, no script, and
// they print and scale with the page.

type series struct {
	name  string
	class string // css class of the line and its points: the colour
	vals  []float64
	label func(float64) string
}

const (
	chartW, chartH          = 760, 260
	padL, padR, padT, padB  = 80, 50, 30, 50
	plotW, plotH            = chartW - padL - padR, chartH - padT - padB
	barH, barGap, barLabelW = 22, 6, 220
)

// ratio is the dedup ratio of a snapshot (see the package doc); +Inf when
// its ingest stored nothing new.
func ratio(si vfs.SnapshotInfo) float64 {
	if si.Ingest.StoredAdded == 0 {
		return math.Inf(1)
	}
	return float64(si.Summary.Subtree.Bytes) / float64(si.Ingest.StoredAdded)
}

func ratioText(si vfs.SnapshotInfo) string {
	r := ratio(si)
	if math.IsInf(r, 1) {
		return "∞"
	}
	return fmt.Sprintf("%.2f×", r)
}

func sizeChart(snaps []vfs.SnapshotInfo) string {
	logical, stored := make([]float64, len(snaps)), make([]float64, len(snaps))
	for i, si := range snaps {
		logical[i] = float64(si.Summary.Subtree.Bytes)
		stored[i] = float64(si.Ingest.StoredAdded)
	}
	hb := func(v float64) string { return humanBytes(v) }
	return lineChart("Logical size and new data stored per snapshot", snaps, []series{
		{name: "logical size", class: "logical", vals: logical, label: hb},
		{name: "new data stored", class: "stored", vals: stored, label: hb},
	})
}

func ratioChart(snaps []vfs.SnapshotInfo) string {
	vals := make([]float64, len(snaps))
	for i, si := range snaps {
		vals[i] = ratio(si)
	}
	return lineChart("Dedup ratio per snapshot (logical size ÷ new data stored; ∞ at the top)", snaps, []series{
		{name: "dedup ratio", class: "ratio", vals: vals, label: func(v float64) string {
			if math.IsInf(v, 1) {
				return "∞"
			}
			return fmt.Sprintf("%.2f×", v)
		}},
	})
}

// lineChart draws one point per snapshot for each series, evenly spaced
// in time order (snapshots are events, not a continuous signal).
func lineChart(title string, snaps []vfs.SnapshotInfo, ss []series) string {
	maxV := 0.0
	for _, s := range ss {
		for _, v := range s.vals {
			if !math.IsInf(v, 0) && v > maxV {
				maxV = v
			}
		}
	}
	if maxV == 0 {
		maxV = 1
	}
	x := func(i int) float64 {
		if len(snaps) == 1 {
			return padL + plotW/2
		}
		return padL + float64(i)*plotW/float64(len(snaps)-1)
	}
	y := func(v float64) float64 {
		if math.IsInf(v, 1) || v > maxV {
			v = maxV
		}
		return padT + plotH - v/maxV*plotH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="title" x="%d" y="18">%s</text>`, padL, html.EscapeString(title))
	for _, f := range []float64{0, 0.5, 1} {
		yy := y(f * maxV)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, yy, yy)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, yy+4, html.EscapeString(ss[0].label(f*maxV)))
	}
	step := max(1, len(snaps)/8)
	for i, si := range snaps {
		if i%step == 0 || i == len(snaps)-1 {
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="middle">%s</text>`, x(i), chartH-padB+18, si.Time.UTC().Format("01-02 15:04"))
		}
	}
	for k, s := range ss {
		var pts []string
		for i, v := range s.vals {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, s.class, strings.Join(pts, " "))
		for i, v := range s.vals {
			fmt.Fprintf(&b, `<circle class="pt pt-%s" cx="%.1f" cy="%.1f" r="4"><title>%s %s: %s</title></circle>`,
				s.class, x(i), y(v), snaps[i].ShortID(), html.EscapeString(s.name), html.EscapeString(s.label(v)))
		}
		fmt.Fprintf(&b, `<rect class="key %s" x="%d" y="%d" width="12" height="12"/><text class="axis" x="%d" y="%d">%s</text>`,
			s.class, padL+k*200, chartH-18, padL+k*200+16, chartH-8, html.EscapeString(s.name))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// bar is one horizontal bar: a subdirectory and its subtree's bytes.
type bar struct {
	label string
	url   string // "" for no link
	value uint64
}

// barChart draws the largest subdirectories, longest bar first.
func barChart(title string, bars []bar) string {
	if len(bars) == 0 {
		return ""
	}
	maxV := uint64(1)
	for _, b := range bars {
		maxV = max(maxV, b.value)
	}
	h := 30 + len(bars)*(barH+barGap)
	w := float64(chartW - barLabelW - 110)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s">`, chartW, h, chartW, h, html.EscapeString(title))
	fmt.Fprintf(&b, `<text class="title" x="0" y="18">%s</text>`, html.EscapeString(title))
	for i, br := range bars {
		y := 30 + i*(barH+barGap)
		label := br.label
		if r := []rune(label); len(r) > 30 {
			label = string(r[:29]) + "…"
		}
		bw := float64(br.value) / float64(maxV) * w
		open, end := "", ""
		if br.url != "" {
			open, end = fmt.Sprintf(`<a href="%s">`, html.EscapeString(br.url)), `</a>`
		}
		fmt.Fprintf(&b, `%s<text class="axis" x="%d" y="%d" text-anchor="end">%s</text><rect class="bar" x="%d" y="%d" width="%.1f" height="%d"><title>%s: %s</title></rect>%s`,
			open, barLabelW-8, y+barH-6, html.EscapeString(label), barLabelW, y, max(bw, 1), barH,
			html.EscapeString(br.label), humanBytes(br.value), end)
		fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d">%s</text>`, float64(barLabelW)+max(bw, 1)+6, y+barH-6, humanBytes(br.value))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
