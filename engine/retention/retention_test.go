package retention

import (
	"fmt"
	"testing"
	"time"
)

func items(times ...string) []Item {
	var out []Item
	for i, s := range times {
		t, err := time.Parse(time.DateTime, s)
		if err != nil {
			panic(err)
		}
		out = append(out, Item{ID: fmt.Sprint(i), Time: t})
	}
	return out
}

func kept(ds []Decision) string {
	s := ""
	for _, d := range ds {
		if d.Keep {
			s += d.ID
		} else {
			s += "-"
		}
	}
	return s
}

func TestApply(t *testing.T) {
	// Oldest first: ids 0..6.
	its := items("2024-01-01 10:00:00", "2024-01-01 12:00:00", "2024-01-02 09:00:00",
		"2024-01-02 18:00:00", "2024-01-09 08:00:00", "2024-02-01 00:30:00", "2024-02-01 23:00:00")
	now, _ := time.Parse(time.DateTime, "2024-02-02 00:00:00")
	for _, c := range []struct {
		p    Policy
		want string // newest first
	}{
		{Policy{}, "6543210"},
		{Policy{KeepLast: 2}, "65-----"},
		{Policy{KeepDaily: 3}, "6-43---"},
		{Policy{KeepDaily: 10}, "6-43-1-"},
		{Policy{KeepWeekly: 2}, "6-4----"},
		{Policy{KeepMonthly: 2}, "6-4----"},
		{Policy{KeepYearly: 1}, "6------"},
		{Policy{KeepLast: 1, KeepMonthly: 2}, "6-4----"},
		{Policy{KeepWithin: 24 * time.Hour}, "65-----"},
		{Policy{KeepHourly: 3}, "654----"},
	} {
		got := kept(Apply(its, c.p, now, time.UTC))
		if got != c.want {
			t.Errorf("%v: kept %s, want %s", c.p, got, c.want)
		}
	}
}

func TestApplyAlwaysKeepsNewestWithAnyRule(t *testing.T) {
	its := items("2020-01-01 00:00:00", "2021-01-01 00:00:00")
	for _, p := range []Policy{{KeepLast: 1}, {KeepDaily: 1}, {KeepWeekly: 1}, {KeepMonthly: 1}, {KeepYearly: 1}, {KeepHourly: 1}} {
		ds := Apply(its, p, time.Now(), time.UTC)
		if !ds[0].Keep || ds[0].ID != "1" || ds[1].Keep {
			t.Errorf("%v: %+v", p, ds)
		}
	}
}

func TestValidate(t *testing.T) {
	if err := (Policy{KeepDaily: -1}).Validate(); err == nil {
		t.Error("negative keep_daily accepted")
	}
	if err := (Policy{KeepDaily: 7}).Validate(); err != nil {
		t.Error(err)
	}
}
