package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/plakar-gw/plakar-gw/engine"
	"github.com/plakar-gw/plakar-gw/engine/storage"
)

// CopyReport says what a repository copy did.
type CopyReport struct {
	Copied, Skipped int   // objects
	Bytes           int64 // bytes copied
	Check           *engine.CheckReport
}

// CopyRepository copies every object of the repository at src to dst (a
// folder or s3://bucket/prefix, reached with the same repository.s3
// settings), then opens the copy with the passphrase and checks it,
// reading every blob. Objects already in dst with the same size are
// skipped, so an interrupted copy resumes. The config object goes last:
// until it is there, dst is not a repository anyone can open.
func CopyRepository(ctx context.Context, c *Config, src, dst string, log *slog.Logger) (*CopyReport, error) {
	sc, dc := *c, *c
	sc.Repository.Path, dc.Repository.Path = src, dst
	from, err := openStore(ctx, &sc, false)
	if err != nil {
		return nil, fmt.Errorf("source: %w", err)
	}
	defer from.Close()
	to, err := openStore(ctx, &dc, true)
	if err != nil {
		return nil, fmt.Errorf("destination: %w", err)
	}
	defer to.Close()
	if _, err := to.Stat(ctx, storage.KindConfig, "config"); err == nil {
		return nil, fmt.Errorf("destination %s already holds a repository", to.Location())
	}
	rep := &CopyReport{}
	kinds := []storage.Kind{storage.KindPack, storage.KindIndex, storage.KindSnapshot, storage.KindConfig}
	for _, kind := range kinds {
		for name, err := range from.List(ctx, kind) {
			if err != nil {
				return rep, err
			}
			info, err := from.Stat(ctx, kind, name)
			if err != nil {
				if errors.Is(err, storage.ErrNotExist) {
					continue // removed while copying (a snapshot rm, gc)
				}
				return rep, err
			}
			if have, err := to.Stat(ctx, kind, name); err == nil && have.Size == info.Size {
				rep.Skipped++
				continue
			}
			rc, err := from.Get(ctx, kind, name, 0, -1)
			if err != nil {
				return rep, err
			}
			cr := &countingReader{r: rc}
			err = to.Put(ctx, kind, name, cr)
			rc.Close()
			if err != nil {
				return rep, fmt.Errorf("copy %s/%s: %w", kind, name, err)
			}
			if cr.n != info.Size {
				return rep, fmt.Errorf("copy %s/%s: read %d bytes of %d", kind, name, cr.n, info.Size)
			}
			rep.Copied++
			rep.Bytes += cr.n
		}
		log.Info("copied", "kind", kind, "objects", rep.Copied, "skipped", rep.Skipped, "bytes", rep.Bytes)
	}
	r, err := OpenRepository(ctx, &dc)
	if err != nil {
		return rep, fmt.Errorf("open the copy: %w", err)
	}
	defer r.Close()
	rep.Check, err = r.Check(ctx, engine.CheckOptions{ReadData: true})
	return rep, err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
