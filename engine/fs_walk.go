package engine

import (
	"context"
	"encoding/hex"
	"io/fs"
	"iter"
	"sort"
	"strings"

	"github.com/plakar-gw/plakar-gw/engine/blob"
	"github.com/plakar-gw/plakar-gw/engine/snapshot"
	"github.com/plakar-gw/plakar-gw/engine/tree"
	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// Walk yields every entry whose key sorts after after, in S3 key order. It
// descends straight to the directory that after points into (one B-tree
// seek per level) instead of scanning from the start.
func (f *snapFS) Walk(ctx context.Context, after string) iter.Seq2[vfs.Entry, error] {
	return func(yield func(vfs.Entry, error) bool) {
		f.walkDir(ctx, f.s.Header.Root, "", after, yield)
	}
}

// walkDir walks the directory whose keys start with prefix; rel is after
// with prefix removed ("" for no bound). It returns false when stopped.
func (f *snapFS) walkDir(ctx context.Context, dir blob.ID, prefix, rel string, yield func(vfs.Entry, error) bool) bool {
	seek := rel
	if i := strings.IndexByte(rel, '/'); i >= 0 {
		// after points inside child directory rel[:i]: finish that one first.
		// A rest starting with 0xFF, a byte no UTF-8 name starts with, is
		// past the whole subtree: the S3 listing's seek past a common
		// prefix ("dir/\xff") then reads nothing of that directory.
		dirKey := rel[:i+1]
		if rest := rel[i+1:]; rest == "" || rest[0] != 0xff {
			e, err := tree.Lookup(ctx, f.r.loadNode, dir, rel[:i])
			if err != nil && err != tree.ErrNotFound {
				yield(vfs.Entry{}, err)
				return false
			}
			if err == nil && e.Mode.IsDir() {
				if !f.walkDir(ctx, e.Subtree, prefix+dirKey, rest, yield) {
					return false
				}
			}
		}
		seek = dirKey
	}
	for e, err := range tree.Iter(ctx, f.r.loadNode, dir, seek) {
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			yield(vfs.Entry{}, err)
			return false
		}
		if !yield(walkEntry(prefix, e), nil) {
			return false
		}
		if e.Mode.IsDir() && !f.walkDir(ctx, e.Subtree, prefix+e.Key(), "", yield) {
			return false
		}
	}
	return true
}

func walkEntry(prefix string, e *tree.Entry) vfs.Entry {
	out := vfs.Entry{Key: prefix + e.Key(), Mode: e.Mode, Size: e.Size, ModTime: e.Time(), Target: e.Target, UID: e.UID, GID: e.GID}
	if e.Mode.IsRegular() {
		out.ETag = hex.EncodeToString(e.Content[:])
	}
	if e.Mode.IsDir() {
		out.Files = e.Summary.Subtree.Files
	}
	return out
}

// Errors yields the per-path errors recorded at or under dir, in path order.
func (f *snapFS) Errors(dir string) iter.Seq2[vfs.PathError, error] {
	return func(yield func(vfs.PathError, error) bool) {
		if !fs.ValidPath(dir) {
			yield(vfs.PathError{}, &fs.PathError{Op: "errors", Path: dir, Err: fs.ErrInvalid})
			return
		}
		prefix := "/"
		if dir != "." {
			prefix = "/" + dir
		}
		pages := f.s.Header.Errors
		start := sort.Search(len(pages), func(i int) bool { return pages[i].First > prefix }) - 1
		for _, p := range pages[max(start, 0):] {
			if !f.errorPage(p, prefix, yield) {
				return
			}
		}
	}
}

// errorPage yields the page's errors under prefix; false when done.
func (f *snapFS) errorPage(p snapshot.ErrorPage, prefix string, yield func(vfs.PathError, error) bool) bool {
	plain, err := f.r.LoadBlob(f.ctx, p.ID)
	var errs []vfs.PathError
	if err == nil {
		errs, err = snapshot.DecodeErrors(plain)
	}
	if err != nil {
		yield(vfs.PathError{}, err)
		return false
	}
	for _, e := range errs {
		under := prefix == "/" || e.Path == prefix || strings.HasPrefix(e.Path, prefix+"/")
		if under && !yield(e, nil) {
			return false
		}
		if !under && e.Path > prefix+"/\xff" {
			return false
		}
	}
	return true
}
