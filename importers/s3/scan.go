package s3

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/plakar-gw/plakar-gw/importers"
)

// dirTime is the mtime of a directory no "dir/" object describes: S3 has
// no such thing as a directory's time.
var dirTime = time.Unix(0, 0).UTC()

// Scan lists the prefix with ListObjectsV2, page by page, and turns the
// keys into a tree (see the package doc). Only the directories on the
// current branch are held in memory, with a few names of files listed in
// each (to spot a key "a" next to keys "a/...", which no tree can hold).
//
// Invalid keys and such conflicts are records with Err set, named after the
// key (escaped) in the deepest directory that holds it. A listing that
// fails (after the SDK's retries) ends the scan with the error.
func (imp *Importer) Scan(ctx context.Context) iter.Seq2[importers.Record, error] {
	return func(yield func(importers.Record, error) bool) {
		if imp.closed.Load() {
			yield(importers.Record{}, os.ErrClosed)
			return
		}
		b := &builder{yield: yield, ctx: ctx, prefix: imp.prefix}
		if !b.emit(importers.Record{Path: "/", Mode: iofs.ModeDir | 0o755, ModTime: dirTime}) {
			return
		}
		b.stack = []*level{{path: "/"}}
		pages := s3.NewListObjectsV2Paginator(imp.client, &s3.ListObjectsV2Input{
			Bucket: aws.String(imp.bucket), Prefix: aws.String(imp.prefix)})
		for pages.HasMorePages() {
			if err := ctx.Err(); err != nil {
				yield(importers.Record{}, err)
				return
			}
			page, err := pages.NextPage(ctx)
			if err != nil {
				yield(importers.Record{}, fmt.Errorf("s3 importer: listing s3://%s/%s: %w", imp.bucket, imp.prefix, err))
				return
			}
			for _, obj := range page.Contents {
				if !b.object(obj) {
					return
				}
			}
		}
	}
}

type level struct {
	path string
	// files holds names of files yielded in this directory that a later
	// key could still use as a directory name. In byte order, between the
	// key "a" and the keys "a/..." come only keys that start with "a" then
	// a byte below '/' ("a b", "a.txt"): so only the chain of names that
	// are prefixes of the latest one can conflict, a few at most however
	// large the directory.
	files []string
}

// addFile records name, a file just yielded in l.
func (l *level) addFile(name string) {
	for len(l.files) > 0 && !strings.HasPrefix(name, l.files[len(l.files)-1]) {
		l.files = l.files[:len(l.files)-1]
	}
	l.files = append(l.files, name)
}

func (l *level) hasFile(name string) bool { return slices.Contains(l.files, name) }

type builder struct {
	yield   func(importers.Record, error) bool
	ctx     context.Context
	prefix  string
	stack   []*level
	prevKey string
	stopped bool
}

func (b *builder) emit(rec importers.Record) bool {
	if b.stopped {
		return false
	}
	if err := b.ctx.Err(); err != nil {
		b.stopped = true
		b.yield(importers.Record{}, err)
		return false
	}
	if !b.yield(rec, nil) {
		b.stopped = true
	}
	return !b.stopped
}

func (b *builder) fail(err error) bool {
	if !b.stopped {
		b.stopped = true
		b.yield(importers.Record{}, err)
	}
	return false
}

// object adds one listed object; false stops the scan.
func (b *builder) object(obj types.Object) bool {
	key := aws.ToString(obj.Key)
	if key < b.prevKey {
		// The tree relies on byte order: a directory's keys contiguous.
		return b.fail(fmt.Errorf("s3 importer: server listed %q after %q, out of byte order", key, b.prevKey))
	}
	b.prevKey = key
	rel, ok := strings.CutPrefix(key, b.prefix)
	if !ok {
		return b.fail(fmt.Errorf("s3 importer: server listed %q outside prefix %q", key, b.prefix))
	}
	if rel == "" {
		return true // the prefix's own "dir/" object: the root
	}
	isDir := strings.HasSuffix(rel, "/")
	segs, err := splitKey(strings.TrimSuffix(rel, "/"))
	if err != nil {
		return b.invalid(key, rel, err)
	}
	dirs := segs[:len(segs)-1]
	if isDir {
		dirs = segs
	}
	b.popTo(dirs)
	for i := len(b.stack) - 1; i < len(dirs); i++ {
		top := b.stack[len(b.stack)-1]
		name := dirs[i]
		if top.hasFile(name) {
			return b.invalid(key, rel, fmt.Errorf("%q is also an object, and a path cannot be both a file and a directory", b.prefix+strings.Join(dirs[:i+1], "/")))
		}
		rec := importers.Record{Path: join(top.path, name), Mode: iofs.ModeDir | 0o755, ModTime: dirTime}
		if isDir && i == len(dirs)-1 {
			rec.ModTime = aws.ToTime(obj.LastModified)
			rec.Xattrs = etag(obj.ETag)
		}
		if !b.emit(rec) {
			return false
		}
		b.stack = append(b.stack, &level{path: rec.Path})
	}
	if isDir {
		return true
	}
	top := b.stack[len(b.stack)-1]
	name := segs[len(segs)-1]
	top.addFile(name)
	return b.emit(importers.Record{Path: join(top.path, name), Mode: 0o644,
		Size: aws.ToInt64(obj.Size), ModTime: aws.ToTime(obj.LastModified), Xattrs: etag(obj.ETag)})
}

// popTo leaves on the stack only the root and the leading directories of
// dirs that are already open.
func (b *builder) popTo(dirs []string) {
	keep := 1
	for keep < len(b.stack) && keep-1 < len(dirs) && path1(b.stack[keep].path) == dirs[keep-1] {
		keep++
	}
	b.stack = b.stack[:keep]
}

// path1 returns the last element of a path.
func path1(p string) string { return p[strings.LastIndexByte(p, '/')+1:] }

// invalid yields a per-path error for a key that cannot be a path. It is
// placed in the deepest open directory the key is under, named after the
// rest of the key with "%", "/" and NUL escaped, so it can never name
// another path; the message quotes the raw key.
func (b *builder) invalid(key, rel string, why error) bool {
	parts := strings.Split(rel, "/")
	keep := 1
	for keep < len(b.stack) && keep-1 < len(parts)-1 && path1(b.stack[keep].path) == parts[keep-1] {
		keep++
	}
	b.stack = b.stack[:keep]
	rest := strings.Join(parts[keep-1:], "/")
	name := "invalid-key:" + strings.NewReplacer("%", "%25", "/", "%2F", "\x00", "%00").Replace(rest)
	top := b.stack[len(b.stack)-1]
	return b.emit(importers.Record{Path: join(top.path, name),
		Err: fmt.Errorf("%w: key %q not imported: %v", iofs.ErrInvalid, key, why)})
}

var (
	errEmptySegment = errors.New("empty segment (as in a//b, or a leading /)")
	errDotSegment   = errors.New(`"." or ".." segment`)
	errNUL          = errors.New("NUL byte")
)

// splitKey splits a key (without its trailing "/") into path segments,
// refusing what would not be a clean path below the root.
func splitKey(k string) ([]string, error) {
	if strings.IndexByte(k, 0) >= 0 {
		return nil, errNUL
	}
	segs := strings.Split(k, "/")
	for _, s := range segs {
		switch s {
		case "":
			return nil, errEmptySegment
		case ".", "..":
			return nil, errDotSegment
		}
	}
	return segs, nil
}

func join(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

// EtagXattr is the extended attribute that carries an object's ETag.
const EtagXattr = "user.s3.etag"

func etag(e *string) []importers.Xattr {
	if e == nil || *e == "" {
		return nil
	}
	return []importers.Xattr{{Name: EtagXattr, Value: []byte(strings.Trim(*e, `"`))}}
}
