package mount

import (
	"hash/fnv"
	"io/fs"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/plakar-gw/plakar-gw/engine/vfs"
)

// rootIno is the mount root's inode number. Every other number is a hash
// below 2^63, where go-fuse's automatic numbers start.
const rootIno = 1

// ino is the stable inode number of an entry: hardlinked files of one
// snapshot share their recorded group, so they share an inode as on the
// source; anything else is identified by snapshot and path. Numbers stay
// the same across remounts, and two snapshots never share one.
func ino(snapID, path string, sys *vfs.Sys) uint64 {
	h := fnv.New64a()
	h.Write([]byte(snapID))
	if sys != nil && sys.Inode != 0 {
		var b [9]byte
		b[0] = 1 // not a path byte: hardlink groups and paths never meet
		for i := range 8 {
			b[i+1] = byte(sys.Inode >> (8 * i))
		}
		h.Write(b[:])
	} else {
		h.Write([]byte{0})
		h.Write([]byte(path))
	}
	return fixIno(h.Sum64())
}

// tagIno is a stable inode number for a synthetic entry of the root.
func tagIno(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return fixIno(h.Sum64())
}

func fixIno(v uint64) uint64 {
	v &^= 1 << 63
	if v <= rootIno {
		v += 2
	}
	return v
}

// unixMode converts an io/fs mode to the st_mode bits, the special bits
// included.
func unixMode(m fs.FileMode) uint32 {
	out := uint32(m.Perm())
	switch {
	case m.IsDir():
		out |= syscall.S_IFDIR
	case m&fs.ModeSymlink != 0:
		out |= syscall.S_IFLNK
	case m&fs.ModeNamedPipe != 0:
		out |= syscall.S_IFIFO
	case m&fs.ModeSocket != 0:
		out |= syscall.S_IFSOCK
	case m&fs.ModeCharDevice != 0:
		out |= syscall.S_IFCHR
	case m&fs.ModeDevice != 0:
		out |= syscall.S_IFBLK
	default:
		out |= syscall.S_IFREG
	}
	if m&fs.ModeSetuid != 0 {
		out |= syscall.S_ISUID
	}
	if m&fs.ModeSetgid != 0 {
		out |= syscall.S_ISGID
	}
	if m&fs.ModeSticky != 0 {
		out |= syscall.S_ISVTX
	}
	return out
}

// fillAttr sets out from an entry's file info.
func fillAttr(out *fuse.Attr, ino uint64, fi fs.FileInfo, sys *vfs.Sys, target string) {
	*out = fuse.Attr{Ino: ino, Mode: unixMode(fi.Mode()), Nlink: 1}
	switch {
	case fi.Mode().IsRegular():
		out.Size = uint64(fi.Size())
	case fi.Mode()&fs.ModeSymlink != 0:
		out.Size = uint64(len(target))
	}
	setTime(out, fi.ModTime())
	if sys != nil {
		out.Uid, out.Gid = sys.UID, sys.GID
		out.Rdev = uint32(sys.Rdev)
		if sys.Nlink > 0 {
			out.Nlink = sys.Nlink
		}
	}
}

// setTime sets mtime, and ctime and atime to it: a snapshot records one
// time per entry.
func setTime(out *fuse.Attr, t time.Time) {
	s, ns := uint64(t.Unix()), uint32(t.Nanosecond())
	if t.Unix() < 0 {
		s, ns = 0, 0
	}
	out.Mtime, out.Mtimensec = s, ns
	out.Atime, out.Atimensec = s, ns
	out.Ctime, out.Ctimensec = s, ns
}

// sysOf returns the *vfs.Sys of a file info, nil when it has none.
func sysOf(fi fs.FileInfo) *vfs.Sys {
	s, _ := fi.Sys().(*vfs.Sys)
	return s
}
