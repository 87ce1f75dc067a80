package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"unicode/utf8"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// frame is a directory being built: the scan is depth-first, so the open
// directories form a stack and one closes when the scan leaves it.
type frame struct {
	path    string
	entry   tree.Entry
	entries []tree.Entry
	files   []pending
	errors  uint64
}

type pending struct {
	index int
	job   *fileJob
}

// build consumes scan events in order and writes the tree bottom-up.
func (in *ingest) build() error {
	var stack []*frame
	for ev := range in.events {
		rec := ev.rec
		if rec.Path == "/" {
			stack = []*frame{{path: "/", entry: entryOf(rec, 0)}}
			if rec.Err != nil {
				in.recordError(stack[0], rec.Path, rec.Err)
			}
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].path != path.Dir(rec.Path) {
			if err := in.closeTop(&stack); err != nil {
				return err
			}
		}
		if len(stack) == 0 {
			return fmt.Errorf("importer %s yielded %q outside the tree being built", in.imp.Type(), rec.Path)
		}
		in.add(&stack, ev)
	}
	if err := in.ctx.Err(); err != nil {
		return err
	}
	if len(stack) == 0 {
		return fmt.Errorf("importer %s yielded no root", in.imp.Type())
	}
	for len(stack) > 1 {
		if err := in.closeTop(&stack); err != nil {
			return err
		}
	}
	root, err := in.finish(stack[0])
	in.rootEntry = root
	return err
}

func (in *ingest) add(stack *[]*frame, ev event) {
	top := (*stack)[len(*stack)-1]
	rec := ev.rec
	// Names must be valid UTF-8: io/fs paths, S3 keys and WebDAV hrefs all
	// require it, so such an entry could be stored but never read back.
	if name := path.Base(rec.Path); !tree.ValidName(name) || !utf8.ValidString(name) {
		in.recordError(top, rec.Path, fmt.Errorf("name is not valid UTF-8 or not a valid file name; not stored: %w", fs.ErrInvalid))
		return
	}
	if rec.Err != nil {
		in.recordError(top, rec.Path, rec.Err)
		if !rec.Mode.IsDir() {
			return
		}
	}
	e := entryOf(rec, ev.group)
	switch {
	case rec.Mode.IsDir():
		*stack = append(*stack, &frame{path: rec.Path, entry: e})
	case rec.Mode.IsRegular():
		top.files = append(top.files, pending{index: len(top.entries), job: ev.file})
		top.entries = append(top.entries, e)
	default:
		top.entries = append(top.entries, e)
	}
}

func (in *ingest) recordError(f *frame, p string, err error) {
	f.errors++
	in.o.Progress.Errors.Add(1)
	in.errs = append(in.errs, vfs.PathError{Path: p, Message: err.Error()})
}

func (in *ingest) closeTop(stack *[]*frame) error {
	top := (*stack)[len(*stack)-1]
	*stack = (*stack)[:len(*stack)-1]
	e, err := in.finish(top)
	if err != nil {
		return err
	}
	parent := (*stack)[len(*stack)-1]
	parent.entries = append(parent.entries, e)
	return nil
}

// finish waits for the directory's files, stores its nodes and returns its
// entry for the parent, with the summary filled in.
func (in *ingest) finish(f *frame) (tree.Entry, error) {
	drop := map[int]bool{}
	for _, p := range f.files {
		select {
		case <-p.job.done:
		case <-in.ctx.Done():
			return tree.Entry{}, in.ctx.Err()
		}
		if p.job.err != nil {
			var fatal fatalError
			if errors.As(p.job.err, &fatal) || in.ctx.Err() != nil {
				return tree.Entry{}, p.job.err
			}
			in.recordError(f, path.Join(f.path, f.entries[p.index].Name), p.job.err)
			drop[p.index] = true
			continue
		}
		e := &f.entries[p.index]
		e.Chunks, e.Content, e.Size = p.job.chunks, p.job.content, p.job.size
	}
	entries := f.entries[:0]
	for i, e := range f.entries {
		if !drop[i] {
			entries = append(entries, e)
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Key() < entries[j].Key() })
	for i := 1; i < len(entries); i++ {
		if entries[i].Key() == entries[i-1].Key() {
			return tree.Entry{}, fmt.Errorf("importer %s yielded %q twice", in.imp.Type(), path.Join(f.path, entries[i].Name))
		}
	}
	id, err := tree.Build(entries, func(n *tree.Node) (blob.ID, error) { return in.w.Add(blob.Tree, tree.Encode(n)) })
	if err != nil {
		return tree.Entry{}, fatalError{err}
	}
	e := f.entry
	e.Subtree = id
	e.Summary = summarize(f.path, entries, f.errors)
	return e, nil
}

// summarize computes a directory's counts: Self over its direct entries,
// Subtree over everything below it.
func summarize(dir string, entries []tree.Entry, errs uint64) vfs.Summary {
	var s vfs.Summary
	s.Self.Errors = errs
	for i := range entries {
		e := &entries[i]
		c := &s.Self
		switch {
		case e.Mode.IsRegular():
			c.Files++
			c.Bytes += uint64(e.Size)
			if e.Size > c.LargestSize || c.LargestFile == "" {
				c.LargestSize, c.LargestFile = e.Size, path.Join(dir, e.Name)
			}
		case e.Mode.IsDir():
			c.Dirs++
		case e.Mode&fs.ModeSymlink != 0:
			c.Symlinks++
		default:
			c.Others++
		}
		t := e.Time().UTC()
		if c.OldestMtime.IsZero() || t.Before(c.OldestMtime) {
			c.OldestMtime = t
		}
		if t.After(c.NewestMtime) {
			c.NewestMtime = t
		}
	}
	s.Subtree = s.Self
	for i := range entries {
		if entries[i].Mode.IsDir() {
			AddCounts(&s.Subtree, &entries[i].Summary.Subtree)
		}
	}
	return s
}

// AddCounts adds b into a.
func AddCounts(a, b *vfs.Counts) {
	a.Files += b.Files
	a.Dirs += b.Dirs
	a.Symlinks += b.Symlinks
	a.Others += b.Others
	a.Bytes += b.Bytes
	a.Errors += b.Errors
	if !b.OldestMtime.IsZero() && (a.OldestMtime.IsZero() || b.OldestMtime.Before(a.OldestMtime)) {
		a.OldestMtime = b.OldestMtime
	}
	if b.NewestMtime.After(a.NewestMtime) {
		a.NewestMtime = b.NewestMtime
	}
	if b.LargestFile != "" && (b.LargestSize > a.LargestSize || a.LargestFile == "") {
		a.LargestFile, a.LargestSize = b.LargestFile, b.LargestSize
	}
}
