package engine

import (
	"context"
	"time"

	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

var _ vfs.Catalog = (*Repository)(nil)

// Snapshots lists every readable snapshot for the frontends, newest first.
func (r *Repository) Snapshots(ctx context.Context) ([]vfs.SnapshotInfo, error) {
	snaps, _, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	p := r.currentPolicy()
	out := make([]vfs.SnapshotInfo, 0, len(snaps))
	for _, s := range snaps {
		// One ed25519 verification per signature serves both the policy
		// and the status shown.
		if sigs := Signatures(s, p.Trusted); p.allows(sigs) {
			out = append(out, info(s, sigs))
		}
	}
	return out, nil
}

// info describes a snapshot for the frontends.
func info(s *snapshot.Snapshot, sigs []SigStatus) vfs.SnapshotInfo {
	h := s.Header
	return vfs.SnapshotInfo{ID: s.ID.String(), Time: h.Time, Job: h.Job, Tags: h.Tags, Hostname: h.Hostname,
		Importer: h.Importer, Origin: h.Origin, Summary: h.Summary, Signed: StatusText(sigs), Complete: h.Complete,
		Ingest: vfs.IngestStats{StoredAdded: h.Stats.StoredAdded, BlobsAdded: h.Stats.BlobsAdded,
			Duration: time.Duration(h.Stats.Duration * float64(time.Second))}}
}

// OpenSnapshot opens a snapshot by id, unique prefix or alias.
func (r *Repository) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	s, err := r.FindSnapshot(ctx, name)
	if err != nil {
		return nil, err
	}
	if p := r.currentPolicy(); !p.allows(Signatures(s, p.Trusted)) {
		return nil, errHidden(name)
	}
	return r.SnapshotFS(ctx, s), nil
}
