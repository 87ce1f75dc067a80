package fs

import (
	iofs "io/fs"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/plakar-gw/plakar-gw/importers"
)

// record lstats one entry. On failure it returns Path and Err only; the
// zero Mode then means nothing, and the walker will not descend.
func (imp *Importer) record(p, osPath string) importers.Record {
	fi, err := os.Lstat(osPath)
	if err != nil {
		return importers.Record{Path: p, Err: err}
	}
	rec := imp.fromInfo(p, osPath, fi)
	if rec.Mode&iofs.ModeSymlink != 0 {
		rec.Target, rec.Err = os.Readlink(osPath)
	}
	if err := imp.addXattrs(&rec, osPath); err != nil && rec.Err == nil {
		rec.Err = err
	}
	return rec
}

// fromInfo fills the metadata that lstat gives.
func (imp *Importer) fromInfo(p, osPath string, fi iofs.FileInfo) importers.Record {
	rec := importers.Record{Path: p, Mode: fi.Mode(), ModTime: fi.ModTime()}
	if fi.Mode().IsRegular() {
		rec.Size = fi.Size()
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return rec
	}
	rec.UID, rec.GID = st.Uid, st.Gid
	rec.User, rec.Group = imp.names.user(st.Uid), imp.names.group(st.Gid)
	// Conversions: these field types differ between Linux architectures.
	rec.Dev, rec.Inode, rec.Nlink = uint64(st.Dev), uint64(st.Ino), uint32(st.Nlink)
	if fi.Mode()&iofs.ModeDevice != 0 {
		rec.Rdev = uint64(st.Rdev)
	}
	return rec
}

// addXattrs reads all extended attributes of osPath (not following a
// symlink), sorted by name. A filesystem without xattr support has none;
// an attribute removed between listing and reading is skipped. Other
// failures are returned, with whatever could be read kept in rec.
func (imp *Importer) addXattrs(rec *importers.Record, osPath string) error {
	list, err := readSized(func(b []byte) (int, error) { return unix.Llistxattr(osPath, b) })
	if err == unix.ENOTSUP {
		return nil
	}
	if err != nil {
		return &iofs.PathError{Op: "llistxattr", Path: osPath, Err: err}
	}
	var firstErr error
	for name := range strings.SplitSeq(strings.TrimRight(string(list), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val, err := readSized(func(b []byte) (int, error) { return unix.Lgetxattr(osPath, name, b) })
		switch {
		case err == unix.ENODATA || err == unix.ENOTSUP:
			continue
		case err != nil:
			if firstErr == nil {
				firstErr = &iofs.PathError{Op: "lgetxattr " + name, Path: osPath, Err: err}
			}
			continue
		}
		rec.Xattrs = append(rec.Xattrs, importers.Xattr{Name: name, Value: val})
	}
	slices.SortFunc(rec.Xattrs, func(a, b importers.Xattr) int { return strings.Compare(a.Name, b.Name) })
	return firstErr
}

// readSized runs an xattr call that fills a buffer: it asks for the size
// first (most files have no xattrs, so that one call is usually all), and
// retries on ERANGE because the value can grow between the two calls.
func readSized(call func([]byte) (int, error)) ([]byte, error) {
	for range 8 {
		n, err := call(nil)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return []byte{}, nil
		}
		buf := make([]byte, n)
		n, err = call(buf)
		if err != unix.ERANGE {
			return buf[:n], err
		}
	}
	return nil, unix.ERANGE
}

// ownerNames caches uid/gid to name lookups: a tree has few owners and
// many entries, and a lookup may read /etc/passwd or ask NSS each time.
type ownerNames struct {
	mu     sync.Mutex
	users  map[uint32]string
	groups map[uint32]string
}

func (o *ownerNames) user(uid uint32) string {
	return o.lookup(&o.users, uid, func(id string) (string, error) {
		u, err := user.LookupId(id)
		if err != nil {
			return "", err
		}
		return u.Username, nil
	})
}

func (o *ownerNames) group(gid uint32) string {
	return o.lookup(&o.groups, gid, func(id string) (string, error) {
		g, err := user.LookupGroupId(id)
		if err != nil {
			return "", err
		}
		return g.Name, nil
	})
}

// lookup caches failures too, as "": an unknown id stays unknown.
func (o *ownerNames) lookup(cache *map[uint32]string, id uint32, find func(string) (string, error)) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if name, ok := (*cache)[id]; ok {
		return name
	}
	name, err := find(strconv.FormatUint(uint64(id), 10))
	if err != nil {
		name = ""
	}
	if *cache == nil {
		*cache = make(map[uint32]string)
	}
	(*cache)[id] = name
	return name
}
