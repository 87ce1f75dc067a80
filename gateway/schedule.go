package gateway

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Schedule says when a job runs next.
type Schedule interface {
	Next(time.Time) time.Time
}

// ParseSchedule accepts an interval ("30m", "@every 1h"), a five-field cron
// expression ("0 3 * * *", in local time) or a descriptor ("@daily").
// robfig/cron parses the expressions; the scheduling loop is ours, so a
// job that is still running is skipped instead of started twice.
func ParseSchedule(s string) (Schedule, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		s = "@every " + d.String()
	}
	if d, ok := strings.CutPrefix(s, "@every "); ok {
		if iv, err := time.ParseDuration(strings.TrimSpace(d)); err == nil && iv < time.Second {
			return nil, fmt.Errorf("interval %v is shorter than a second", iv)
		}
	}
	sch, err := cron.ParseStandard(s)
	if err != nil {
		return nil, fmt.Errorf("%q: want an interval like 30m, a cron expression like \"0 3 * * *\", or @daily: %v", s, err)
	}
	return sch, nil
}
