package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
)

func newSnapshotsCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "snapshots",
		Aliases: []string{"list"},
		Short:   "List snapshots, newest first",
		Long: `List every snapshot, newest first: short id, time, job, tags, files, size,
errors recorded at ingest, origin, and signature status ("unsigned",
"signed by KEYID", with ", trusted" when the key is in
signing.trusted_keys, or "invalid"). A snapshot header that cannot be read
is reported on stderr and makes the command exit with code 1.`,
		Example: `  plakar-gw snapshots
  plakar-gw snapshots --json | jq -r '.[0].id'`,
		Args: checkArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			trusted, err := a.trustedKeys(nil)
			if err != nil {
				return err
			}
			r, err := a.open(cmd.Context())
			if err != nil {
				return err
			}
			defer r.Close()
			snaps, bad, err := r.ListSnapshots(cmd.Context())
			if err != nil {
				return err
			}
			if a.json {
				err = a.printSnapshotsJSON(snaps, trusted)
			} else {
				err = a.printSnapshotsTable(snaps, trusted)
			}
			if err != nil {
				return err
			}
			return reportBad(a, bad)
		},
	}
}

func reportBad(a *app, bad map[string]error) error {
	if len(bad) == 0 {
		return nil
	}
	names := make([]string, 0, len(bad))
	for name := range bad {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(a.stderr, "plakar-gw: snapshot %s cannot be read: %v\n", name, bad[name])
	}
	return fmt.Errorf("%d snapshots cannot be read (run: plakar-gw check)", len(bad))
}

func (a *app) printSnapshotsTable(snaps []*snapshot.Snapshot, trusted []sign.PublicKey) error {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tJOB\tTAGS\tFILES\tSIZE\tERRORS\tORIGIN\tSIGNATURE")
	for _, s := range snaps {
		h := s.Header
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", s.ID.String()[:12], h.Time.Local().Format(timeLayout),
			orDash(h.Job), orDash(strings.Join(h.Tags, ",")), h.Summary.Subtree.Files,
			humanBytes(h.Summary.Subtree.Bytes), h.Summary.Subtree.Errors, h.Origin,
			engine.StatusText(engine.Signatures(s, trusted)))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type snapshotJSON struct {
	ID        string         `json:"id"`
	ShortID   string         `json:"short_id"`
	Time      time.Time      `json:"time"`
	Hostname  string         `json:"hostname"`
	Username  string         `json:"username,omitempty"`
	Importer  string         `json:"importer"`
	Origin    string         `json:"origin"`
	Job       string         `json:"job"`
	Tags      []string       `json:"tags"`
	Summary   summaryJSON    `json:"summary"`
	Complete  bool           `json:"complete"`
	Stats     snapshot.Stats `json:"stats"`
	Signature signatureJSON  `json:"signature"`
}

func (a *app) printSnapshotsJSON(snaps []*snapshot.Snapshot, trusted []sign.PublicKey) error {
	out := make([]snapshotJSON, 0, len(snaps))
	for _, s := range snaps {
		h := s.Header
		tags := h.Tags
		if tags == nil {
			tags = []string{}
		}
		out = append(out, snapshotJSON{ID: s.ID.String(), ShortID: s.ID.String()[:12], Time: h.Time,
			Hostname: h.Hostname, Username: h.Username, Importer: h.Importer, Origin: h.Origin, Job: h.Job,
			Tags: tags, Summary: toSummaryJSON(h.Summary), Complete: h.Complete, Stats: h.Stats,
			Signature: signatureOf(s, trusted)})
	}
	return a.printJSON(out)
}
