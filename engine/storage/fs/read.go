package fs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path/filepath"

	"github.com/plakar-gw/plakar-gw/engine/storage"
)

const listBatch = 1024 // directory entries read at a time, to bound memory

// sectionFile reads a range of an open file and closes the file.
type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s sectionFile) Close() error { return s.f.Close() }

// Get opens the file and returns a reader limited to the requested range.
// The open file keeps the version it opened, so a concurrent replace never
// mixes two versions in one read.
func (s *Store) Get(ctx context.Context, kind storage.Kind, name string, off, length int64) (io.ReadCloser, error) {
	if err := s.check(ctx, "get", kind, name); err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, fmt.Errorf("fs: get %s/%s: negative offset %d", kind, name, off)
	}
	f, err := os.Open(s.path(kind, name))
	if err != nil {
		return nil, wrapErr("get", kind, name, err)
	}
	info, err := regular(f.Stat())
	if err != nil {
		f.Close()
		return nil, wrapErr("get", kind, name, err)
	}
	start := min(off, info.Size())
	n := info.Size() - start // cannot overflow, unlike off+length
	if length >= 0 {
		n = min(n, length)
	}
	return sectionFile{io.NewSectionReader(f, start, n), f}, nil
}

// regular treats anything but a regular file (a folder made by hand) as
// missing, matching what List skips.
func regular(info os.FileInfo, err error) (os.FileInfo, error) {
	if err == nil && !info.Mode().IsRegular() {
		err = os.ErrNotExist
	}
	return info, err
}

// Stat returns the object's size.
func (s *Store) Stat(ctx context.Context, kind storage.Kind, name string) (storage.Info, error) {
	if err := s.check(ctx, "stat", kind, name); err != nil {
		return storage.Info{}, err
	}
	info, err := regular(os.Stat(s.path(kind, name)))
	if err != nil {
		return storage.Info{}, wrapErr("stat", kind, name, err)
	}
	return storage.Info{Name: name, Size: info.Size()}, nil
}

// Delete removes the object's file. The folder is not fsynced: a delete
// lost in a crash only leaves garbage that a later delete removes again.
func (s *Store) Delete(ctx context.Context, kind storage.Kind, name string) error {
	if err := s.check(ctx, "delete", kind, name); err != nil {
		return err
	}
	if err := os.Remove(s.path(kind, name)); err != nil {
		return wrapErr("delete", kind, name, err)
	}
	return nil
}

// List yields the valid names of regular files in the kind's folder (for
// packs, in every shard folder). Anything else found there, such as a file
// a user dropped or a pack in the wrong shard, is skipped, so every name
// listed can be read back with Get.
func (s *Store) List(ctx context.Context, kind storage.Kind) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		if err := s.check(ctx, "list", kind, "list"); err != nil {
			yield("", err)
			return
		}
		dir := filepath.Join(s.root, string(kind))
		if kind != storage.KindPack {
			listDir(ctx, dir, false, func(string) bool { return true }, yield)
			return
		}
		shards, err := shardDirs(dir)
		if err != nil {
			yield("", fmt.Errorf("fs: list %s: %w", kind, err))
			return
		}
		for _, sh := range shards {
			inShard := func(name string) bool { return shard(name) == sh }
			// a shard removed by hand since shardDirs is just empty
			if !listDir(ctx, filepath.Join(dir, sh), true, inShard, yield) {
				return
			}
		}
	}
}

// shardDirs returns the shard folders under packs/.
func shardDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var shards []string
	for _, e := range entries {
		if e.IsDir() && isShard(e.Name()) {
			shards = append(shards, e.Name())
		}
	}
	return shards, nil
}

// listDir yields the valid names of regular files in dir accepted by keep,
// reading the folder in batches; a missing dir counts as empty if missingOK.
// It returns false once iteration must stop, because the consumer said so
// or after yielding an error.
func listDir(ctx context.Context, dir string, missingOK bool, keep func(string) bool, yield func(string, error) bool) bool {
	d, err := os.Open(dir)
	if missingOK && errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		yield("", fmt.Errorf("fs: list: %w", err))
		return false
	}
	defer d.Close()
	for {
		if err := ctx.Err(); err != nil {
			yield("", fmt.Errorf("fs: list %s: %w", dir, err))
			return false
		}
		entries, err := d.ReadDir(listBatch)
		for _, e := range entries {
			name := e.Name()
			if e.Type().IsRegular() && storage.ValidName(name) && keep(name) && !yield(name, nil) {
				return false
			}
		}
		if err == io.EOF {
			return true
		}
		if err != nil {
			yield("", fmt.Errorf("fs: list %s: %w", dir, err))
			return false
		}
	}
}

// Prefetch asks the kernel to read the range into the page cache in the
// background (fadvise WILLNEED), so that the Get that follows does not wait
// on the disk.
func (s *Store) Prefetch(kind storage.Kind, name string, off, length int64) {
	if s.check(context.Background(), "prefetch", kind, name) != nil {
		return
	}
	f, err := os.Open(s.path(kind, name))
	if err != nil {
		return
	}
	fadviseWillNeed(f, off, length)
	f.Close()
}
