package engine

import (
	"context"

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
	out := make([]vfs.SnapshotInfo, len(snaps))
	for i, s := range snaps {
		out[i] = Info(s)
	}
	return out, nil
}

// Info describes a snapshot for the frontends.
func Info(s *snapshot.Snapshot) vfs.SnapshotInfo {
	h := s.Header
	signed := "unsigned"
	if len(s.Signatures) > 0 {
		signed = "signature not verified"
	}
	return vfs.SnapshotInfo{ID: s.ID.String(), Time: h.Time, Job: h.Job, Tags: h.Tags, Hostname: h.Hostname,
		Importer: h.Importer, Origin: h.Origin, Summary: h.Summary, Signed: signed}
}

// OpenSnapshot opens a snapshot by id, unique prefix or alias.
func (r *Repository) OpenSnapshot(ctx context.Context, name string) (vfs.FS, error) {
	s, err := r.FindSnapshot(ctx, name)
	if err != nil {
		return nil, err
	}
	return r.SnapshotFS(ctx, s), nil
}
