package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/sign"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
	"github.com/plakar-gw/plakar-gw/importers"
)

// IngestOptions describe one ingest.
type IngestOptions struct {
	Job      string
	Tags     []string
	Hostname string    // default os.Hostname
	Time     time.Time // default now
	Progress *Progress // optional live counters
	Readers  int       // files read at once; default 6
	// SignKey, when set, signs the snapshot; its key id is recorded in the
	// header, so the signature of the header covers who signed it.
	SignKey *sign.PrivateKey
	// NoParent disables skipping files unchanged since the previous
	// snapshot of the same origin (size and mtime equal).
	NoParent bool
}

// Progress is updated live by an ingest; read it with the atomic loads.
type Progress struct {
	Files, Bytes, Errors, Reused atomic.Uint64
	// ExpectedFiles and ExpectedBytes come from the previous snapshot of the
	// same origin, for an ETA; zero when there is none.
	ExpectedFiles, ExpectedBytes atomic.Uint64
}

// Ingest reads every entry of imp into a new snapshot and stores it. Per-path
// errors are recorded in the snapshot (Header.Complete is false) and do not
// fail the ingest; any other error does, and then no snapshot is written.
func (r *Repository) Ingest(ctx context.Context, imp importers.Importer, o IngestOptions) (*snapshot.Snapshot, error) {
	unlock, err := r.Lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// gc may have compacted the index and deleted packs since this
	// Repository last read it: dedup must not trust a stale cache. The
	// shared lock keeps gc out from here on.
	if err := r.SyncIndex(ctx); err != nil {
		return nil, err
	}
	if o.Progress == nil {
		o.Progress = &Progress{}
	}
	if o.Readers <= 0 {
		// Small files are bound by open and read latency, not CPU: several
		// in flight keep the disk busy on a cold cache.
		o.Readers = 6
	}
	start := time.Now()
	var parent *snapshot.Snapshot
	if !o.NoParent {
		parent = r.findParent(ctx, imp, o.Job)
	}
	if parent != nil {
		o.Progress.ExpectedFiles.Store(parent.Header.Summary.Subtree.Files)
		o.Progress.ExpectedBytes.Store(parent.Header.Summary.Subtree.Bytes)
	}
	in := newIngest(ctx, r, imp, o, parent)
	h, err := in.writeAll(start)
	if err != nil {
		in.w.Abort(err)
		return nil, err
	}
	// Flush sealed the last packs: their footers count too.
	h.Stats.StoredAdded = in.w.storedAdded.Load()
	if o.SignKey != nil {
		h.Signer = o.SignKey.Public().ID()
	}
	s, err := snapshot.New(r.key, h)
	if err != nil {
		return nil, err
	}
	if o.SignKey != nil {
		s.Signatures = []snapshot.Signature{signatureOf(o.SignKey, s.Canonical)}
	}
	return s, r.PutSnapshot(ctx, s)
}

// writeAll runs the pipeline and makes every blob durable and indexed.
func (in *ingest) writeAll(start time.Time) (snapshot.Header, error) {
	root, err := in.run()
	if err != nil {
		return snapshot.Header{}, err
	}
	h, err := in.header(root, start)
	if err != nil {
		return h, err
	}
	return h, in.w.Flush()
}

func (r *Repository) findParent(ctx context.Context, imp importers.Importer, job string) *snapshot.Snapshot {
	snaps, _, err := r.ListSnapshots(ctx)
	if err != nil {
		return nil
	}
	for _, s := range snaps {
		if s.Header.Importer == imp.Type() && s.Header.Origin == imp.Origin() && s.Header.Job == job {
			return s
		}
	}
	return nil
}

type ingest struct {
	ctx    context.Context
	r      *Repository
	imp    importers.Importer
	o      IngestOptions
	parent *snapshot.Snapshot
	w      *blobWriter

	files  chan *fileJob
	chunks chan *chunkJob
	events chan event
	pool   sync.Pool

	rootEntry tree.Entry
	errs      []vfs.PathError
}

func newIngest(ctx context.Context, r *Repository, imp importers.Importer, o IngestOptions, parent *snapshot.Snapshot) *ingest {
	small := r.cfg.Chunker.Min // readSmall's buffers; chunks stay in the chunker's
	return &ingest{
		ctx: ctx, r: r, imp: imp, o: o, parent: parent,
		files:  make(chan *fileJob, 64),
		chunks: make(chan *chunkJob, 2),
		events: make(chan event, 4096),
		pool:   sync.Pool{New: func() any { b := make([]byte, 0, small); return &b }},
	}
}

// run starts the pipeline: one scanner, o.Readers file readers (read and
// chunk), one sealer per core (hash, compress, encrypt, pack), and the tree
// builder, which consumes records in scan order and waits for each file's
// chunks only when it closes the file's directory.
func (in *ingest) run() (tree.Entry, error) {
	// The writer outlives the pipeline: Flush runs after it, so it gets the
	// caller's context, not the pipeline's (cancelled when Wait returns).
	in.w = newBlobWriter(in.ctx, in.r)
	g, ctx := errgroup.WithContext(in.ctx)
	in.ctx = ctx
	g.Go(in.scan)
	var readers sync.WaitGroup
	for i := 0; i < in.o.Readers; i++ {
		readers.Add(1)
		g.Go(func() error { defer readers.Done(); return in.readFiles() })
	}
	go func() { readers.Wait(); close(in.chunks) }()
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		g.Go(in.seal)
	}
	g.Go(in.build)
	if err := g.Wait(); err != nil {
		return tree.Entry{}, err
	}
	return in.rootEntry, nil
}

func (in *ingest) header(root tree.Entry, start time.Time) (snapshot.Header, error) {
	pages, err := in.writeErrors()
	if err != nil {
		return snapshot.Header{}, err
	}
	h := snapshot.Header{
		Time: in.o.Time, Hostname: in.o.Hostname, Importer: in.imp.Type(), Origin: in.imp.Origin(),
		Job: in.o.Job, Tags: in.o.Tags, Root: root.Subtree, Summary: root.Summary, Errors: pages,
		Complete: len(in.errs) == 0,
		RootInfo: snapshot.RootInfo{Mode: root.Mode, ModTime: root.Time().UTC(), UID: root.UID, GID: root.GID},
	}
	if h.Time.IsZero() {
		h.Time = time.Now()
	}
	if h.Hostname == "" {
		h.Hostname, _ = os.Hostname()
	}
	if u, err := user.Current(); err == nil {
		h.Username = u.Username
	}
	p := in.o.Progress
	h.Stats = snapshot.Stats{Files: p.Files.Load(), Bytes: p.Bytes.Load(), BlobsAdded: in.w.blobsAdded.Load(),
		StoredAdded: in.w.storedAdded.Load(), Duration: time.Since(start).Seconds()}
	return h, nil
}

func (in *ingest) writeErrors() ([]snapshot.ErrorPage, error) {
	sort.Slice(in.errs, func(i, j int) bool { return in.errs[i].Path < in.errs[j].Path })
	var pages []snapshot.ErrorPage
	for start := 0; start < len(in.errs); start += snapshot.ErrorsPerPage {
		page := in.errs[start:min(start+snapshot.ErrorsPerPage, len(in.errs))]
		id, err := in.w.Add(blob.Tree, snapshot.EncodeErrors(page))
		if err != nil {
			return nil, err
		}
		pages = append(pages, snapshot.ErrorPage{First: page[0].Path, ID: id, Count: len(page)})
	}
	return pages, nil
}

// fileContentID names a file's content by its chunk ids: the ETag.
func (r *Repository) fileContentID(chunks []tree.Chunk) blob.ID {
	b := make([]byte, 0, 5+len(chunks)*32)
	b = append(b, "file\x00"...)
	for _, c := range chunks {
		b = append(b, c.ID[:]...)
	}
	return blob.ID(r.key.Sum(b))
}

func wrapPathErr(path string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
