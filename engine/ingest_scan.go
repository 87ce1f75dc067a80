package engine

import (
	"io/fs"
	"path"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/importers"
)

// event is one scanned record, in scan order, for the tree builder.
type event struct {
	rec   importers.Record
	file  *fileJob // regular files: filled in by a reader
	group uint64   // hardlink group, 0 for none
}

type scanDir struct {
	path string
	prev blob.ID // the same directory in the parent snapshot, if any
}

type inodeKey struct{ dev, ino uint64 }

// scan walks the importer, sends every record to the builder and every
// regular file that changed since the parent snapshot to the readers.
func (in *ingest) scan() error {
	defer close(in.events)
	defer close(in.files)
	var stack []scanDir
	links := map[inodeKey]*fileJob{}
	groups := map[inodeKey]uint64{}
	for rec, err := range in.imp.Scan(in.ctx) {
		if err != nil {
			return err
		}
		ev := event{rec: rec}
		var prev *tree.Entry
		if rec.Path == "/" {
			stack = []scanDir{{path: "/"}}
			if in.parent != nil {
				stack[0].prev = in.parent.Header.Root
			}
		} else {
			for len(stack) > 0 && stack[len(stack)-1].path != path.Dir(rec.Path) {
				stack = stack[:len(stack)-1]
			}
			if len(stack) > 0 {
				prev = in.previous(stack[len(stack)-1].prev, path.Base(rec.Path))
			}
		}
		switch {
		case rec.Err != nil:
		case rec.Mode.IsDir() && rec.Path != "/":
			d := scanDir{path: rec.Path}
			if prev != nil && prev.Mode.IsDir() {
				d.prev = prev.Subtree
			}
			stack = append(stack, d)
		case rec.Mode.IsRegular():
			k := inodeKey{rec.Dev, rec.Inode}
			if rec.Nlink > 1 && rec.Inode != 0 {
				if groups[k] == 0 {
					groups[k] = uint64(len(groups) + 1)
				}
				ev.group = groups[k]
				if job := links[k]; job != nil {
					ev.file = job
					break
				}
			}
			ev.file = in.dispatch(rec, prev)
			if ev.group != 0 {
				links[k] = ev.file
			}
		}
		select {
		case in.events <- ev:
		case <-in.ctx.Done():
			return in.ctx.Err()
		}
	}
	return in.ctx.Err()
}

// previous looks name up in the parent snapshot's directory; any failure
// just means the file is read again.
func (in *ingest) previous(dir blob.ID, name string) *tree.Entry {
	if dir.IsZero() {
		return nil
	}
	e, err := tree.Lookup(in.ctx, in.r.loadNode, dir, name)
	if err != nil {
		return nil
	}
	return e
}

// dispatch returns the job for a regular file: done already when the parent
// snapshot holds the same file (same size and mtime, chunks still indexed).
func (in *ingest) dispatch(rec importers.Record, prev *tree.Entry) *fileJob {
	job := &fileJob{rec: rec, done: make(chan struct{})}
	if prev != nil && prev.Mode.IsRegular() && prev.Size == rec.Size && prev.ModTime == rec.ModTime.UnixNano() && in.indexed(prev.Chunks) {
		job.chunks, job.content, job.size = prev.Chunks, prev.Content, prev.Size
		in.o.Progress.Files.Add(1)
		in.o.Progress.Bytes.Add(uint64(rec.Size))
		in.o.Progress.Reused.Add(1)
		close(job.done)
		return job
	}
	if pf, ok := in.imp.(importers.Prefetcher); ok {
		// The queue is the prefetch window: at most cap(in.files) files
		// ahead of the readers.
		pf.Prefetch(rec.Path, rec.Size)
	}
	select {
	case in.files <- job:
	case <-in.ctx.Done():
		job.err = in.ctx.Err()
		close(job.done)
	}
	return job
}

func (in *ingest) indexed(chunks []tree.Chunk) bool {
	for _, c := range chunks {
		if ok, err := in.w.has(c.ID); err != nil || !ok {
			return false
		}
	}
	return true
}

// entryOf converts a record to a tree entry (content fields left empty).
func entryOf(rec importers.Record, group uint64) tree.Entry {
	e := tree.Entry{
		Name: path.Base(rec.Path), Mode: rec.Mode, ModTime: rec.ModTime.UnixNano(),
		UID: rec.UID, GID: rec.GID, User: rec.User, Group: rec.Group,
		Target: rec.Target, Nlink: rec.Nlink, Rdev: rec.Rdev, Inode: group,
	}
	if rec.Mode&(fs.ModeDevice|fs.ModeCharDevice) == 0 {
		e.Rdev = 0
	}
	for _, x := range rec.Xattrs {
		e.Xattrs = append(e.Xattrs, tree.Xattr{Name: x.Name, Value: x.Value})
	}
	return e
}
