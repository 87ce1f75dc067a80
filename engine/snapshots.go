package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

func jsonIndent(v any) ([]byte, error) { return json.MarshalIndent(v, "", "  ") }

// ErrAmbiguous reports a snapshot prefix that names more than one snapshot.
var ErrAmbiguous = errors.New("snapshot name is ambiguous")

// ListSnapshots loads every snapshot header, newest first. A header that
// fails its checks is returned in bad, never silently dropped.
func (r *Repository) ListSnapshots(ctx context.Context) (snaps []*snapshot.Snapshot, bad map[string]error, err error) {
	var names []string
	for name, err := range r.store.List(ctx, storage.KindSnapshot) {
		if err != nil {
			return nil, nil, err
		}
		names = append(names, name)
	}
	out := make([]*snapshot.Snapshot, len(names))
	errs := make([]error, len(names))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, name := range names {
		g.Go(func() error {
			out[i], errs[i] = r.loadSnapshot(gctx, name)
			if errors.Is(errs[i], storage.ErrNotExist) {
				errs[i] = nil // removed while listing
			}
			return gctx.Err()
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	bad = map[string]error{}
	for i, s := range out {
		if errs[i] != nil {
			bad[names[i]] = errs[i]
		} else if s != nil {
			snaps = append(snaps, s)
		}
	}
	sort.Slice(snaps, func(i, j int) bool {
		if !snaps[i].Header.Time.Equal(snaps[j].Header.Time) {
			return snaps[i].Header.Time.After(snaps[j].Header.Time)
		}
		return snaps[i].ID.String() < snaps[j].ID.String()
	})
	return snaps, bad, nil
}

func (r *Repository) loadSnapshot(ctx context.Context, name string) (*snapshot.Snapshot, error) {
	b, err := r.readObject(ctx, storage.KindSnapshot, name)
	if err != nil {
		return nil, err
	}
	return snapshot.Open(r.key, name, b)
}

// FindSnapshot resolves a full id, a unique prefix of at least 4 hex
// characters, "latest", or "JOB-latest".
func (r *Repository) FindSnapshot(ctx context.Context, name string) (*snapshot.Snapshot, error) {
	name = strings.TrimPrefix(strings.ToLower(name), "snap-")
	if len(name) == 64 {
		s, err := r.loadSnapshot(ctx, name)
		if errors.Is(err, storage.ErrNotExist) {
			return nil, fmt.Errorf("snapshot %s: %w", name, fs.ErrNotExist)
		}
		return s, err
	}
	snaps, _, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil, err
	}
	var found []*snapshot.Snapshot
	for _, s := range snaps {
		switch {
		case name == "latest" || name == s.Header.Job+"-latest" && s.Header.Job != "":
			return s, nil // newest first
		case len(name) >= 4 && strings.HasPrefix(s.ID.String(), name):
			found = append(found, s)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("snapshot %q: %w", name, fs.ErrNotExist)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("%w: %q matches %d snapshots", ErrAmbiguous, name, len(found))
}

// PutSnapshot stores a snapshot header object (its id is its name).
func (r *Repository) PutSnapshot(ctx context.Context, s *snapshot.Snapshot) error {
	b, err := snapshot.Seal(r.key, s)
	if err != nil {
		return err
	}
	return r.store.Put(ctx, storage.KindSnapshot, s.ID.String(), bytes.NewReader(b))
}

// RemoveSnapshot deletes a snapshot header; its data stays until gc.
func (r *Repository) RemoveSnapshot(ctx context.Context, name string) (*snapshot.Snapshot, error) {
	s, err := r.FindSnapshot(ctx, name)
	if err != nil {
		return nil, err
	}
	return s, r.store.Delete(ctx, storage.KindSnapshot, s.ID.String())
}
