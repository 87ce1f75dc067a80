// Package retention owns the snapshot retention policy: given the
// snapshots of one job and a policy (keep the last N, the newest of each of
// the last D days, W weeks, M months, Y years, everything within a
// duration), it says which to keep and which to remove. It decides only;
// removing is the caller's job, so the decision can be shown first
// (--dry-run) and tested without a repository.
package retention

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Policy says what to keep. Zero fields keep nothing by themselves; a
// snapshot is kept when any rule keeps it. The zero Policy keeps
// everything (a job without retention never deletes).
type Policy struct {
	KeepLast    int           `mapstructure:"keep_last"`
	KeepHourly  int           `mapstructure:"keep_hourly"`
	KeepDaily   int           `mapstructure:"keep_daily"`
	KeepWeekly  int           `mapstructure:"keep_weekly"`
	KeepMonthly int           `mapstructure:"keep_monthly"`
	KeepYearly  int           `mapstructure:"keep_yearly"`
	KeepWithin  time.Duration `mapstructure:"keep_within"`
}

// IsZero reports whether the policy keeps everything.
func (p Policy) IsZero() bool { return p == Policy{} }

// Validate rejects negative counts.
func (p Policy) Validate() error {
	for name, n := range map[string]int{"keep_last": p.KeepLast, "keep_hourly": p.KeepHourly, "keep_daily": p.KeepDaily,
		"keep_weekly": p.KeepWeekly, "keep_monthly": p.KeepMonthly, "keep_yearly": p.KeepYearly} {
		if n < 0 {
			return fmt.Errorf("%s: %d is negative", name, n)
		}
	}
	if p.KeepWithin < 0 {
		return fmt.Errorf("keep_within: %v is negative", p.KeepWithin)
	}
	return nil
}

// String describes the policy for logs.
func (p Policy) String() string {
	if p.IsZero() {
		return "keep everything"
	}
	var parts []string
	for _, r := range []struct {
		n    int
		name string
	}{{p.KeepLast, "last"}, {p.KeepHourly, "hourly"}, {p.KeepDaily, "daily"}, {p.KeepWeekly, "weekly"}, {p.KeepMonthly, "monthly"}, {p.KeepYearly, "yearly"}} {
		if r.n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", r.name, r.n))
		}
	}
	if p.KeepWithin > 0 {
		parts = append(parts, "within "+p.KeepWithin.String())
	}
	return "keep " + strings.Join(parts, ", ")
}

// Item is one snapshot as the policy sees it.
type Item struct {
	ID   string
	Time time.Time
}

// Decision is the outcome for one snapshot.
type Decision struct {
	Item
	Keep    bool
	Reasons []string // the rules that keep it, e.g. "last", "daily"
}

// Apply decides for every item (one job's snapshots), newest first in the
// result. now anchors keep_within. Buckets (hour, day, week, month, year)
// are in loc; the newest snapshot of each bucket is the one kept, as
// restic's forget does.
func Apply(items []Item, p Policy, now time.Time, loc *time.Location) []Decision {
	out := make([]Decision, len(items))
	for i, it := range items {
		out[i] = Decision{Item: it}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.After(out[j].Time) })
	if p.IsZero() {
		for i := range out {
			out[i].Keep, out[i].Reasons = true, []string{"no policy"}
		}
		return out
	}
	keep := func(i int, why string) {
		out[i].Keep = true
		out[i].Reasons = append(out[i].Reasons, why)
	}
	for i := range out {
		if i < p.KeepLast {
			keep(i, "last")
		}
		if p.KeepWithin > 0 && now.Sub(out[i].Time) <= p.KeepWithin {
			keep(i, "within")
		}
	}
	for _, b := range []struct {
		n    int
		name string
		key  func(time.Time) string
	}{
		{p.KeepHourly, "hourly", func(t time.Time) string { return t.Format("2006-01-02 15") }},
		{p.KeepDaily, "daily", func(t time.Time) string { return t.Format("2006-01-02") }},
		{p.KeepWeekly, "weekly", func(t time.Time) string { y, w := t.ISOWeek(); return fmt.Sprintf("%d-%02d", y, w) }},
		{p.KeepMonthly, "monthly", func(t time.Time) string { return t.Format("2006-01") }},
		{p.KeepYearly, "yearly", func(t time.Time) string { return t.Format("2006") }},
	} {
		seen := map[string]bool{}
		for i := range out {
			if len(seen) == b.n {
				break
			}
			k := b.key(out[i].Time.In(loc))
			if !seen[k] {
				seen[k] = true
				keep(i, b.name)
			}
		}
	}
	return out
}
