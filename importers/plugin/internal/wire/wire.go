// Package wire owns what the plugin host and the plugin SDK must agree on
// beyond the generated messages: the handshake, the environment variables,
// the protocol version, and the conversions between importers.Record and
// the Record message with their validation.
package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// ProtocolVersion is the version of importer.proto this code speaks.
const ProtocolVersion = 1

const (
	// EnvMagic is set to Magic by the host, so that a plugin run by hand
	// can say what it is instead of waiting on a socket nobody dials.
	EnvMagic = "PLAKAR_GW_PLUGIN_MAGIC"
	Magic    = "d7d4f3c2a1b0-importer"
	// EnvSocket is the Unix socket path the plugin listens on.
	EnvSocket = "PLAKAR_GW_PLUGIN_SOCKET"
	// HandshakePrefix starts the line the plugin prints on stdout once it
	// listens; the socket path follows.
	HandshakePrefix = "plakar-gw-plugin|1|unix|"
)

// ChunkSize is the size of the Open messages the SDK sends: big enough
// that per-message costs vanish (1 MiB measured 4% faster than 256 KiB
// on a 1 GiB file), small enough for gRPC flow control.
const ChunkSize = 1 << 20

// Flow-control windows of both ends: a few chunks in flight per file, and
// a bound on what the host buffers for the engine's parallel readers.
const (
	StreamWindow = 4 << 20
	ConnWindow   = 16 << 20
)

// MaxMessage bounds a received message; a Scan batch of records with
// large xattrs is the biggest legitimate one.
const MaxMessage = 16 << 20

// CheckPath reports why p is not a valid record path: absolute, clean,
// '/'-separated, no NUL.
func CheckPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case p[0] != '/':
		return fmt.Errorf("path %q is not absolute", p)
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("path %q holds a NUL byte", p)
	case path.Clean(p) != p:
		return fmt.Errorf("path %q is not clean (a \".\" or \"..\" element, \"//\" or a trailing \"/\")", p)
	}
	return nil
}

var typeModes = map[pluginpb.FileType]fs.FileMode{
	pluginpb.FileType_FILE_TYPE_REGULAR:      0,
	pluginpb.FileType_FILE_TYPE_DIRECTORY:    fs.ModeDir,
	pluginpb.FileType_FILE_TYPE_SYMLINK:      fs.ModeSymlink,
	pluginpb.FileType_FILE_TYPE_FIFO:         fs.ModeNamedPipe,
	pluginpb.FileType_FILE_TYPE_SOCKET:       fs.ModeSocket,
	pluginpb.FileType_FILE_TYPE_BLOCK_DEVICE: fs.ModeDevice,
	pluginpb.FileType_FILE_TYPE_CHAR_DEVICE:  fs.ModeDevice | fs.ModeCharDevice,
}

// typeOf returns the FileType of a mode; UNSPECIFIED for an irregular one.
func typeOf(m fs.FileMode) pluginpb.FileType {
	switch m.Type() {
	case 0:
		return pluginpb.FileType_FILE_TYPE_REGULAR
	case fs.ModeDir:
		return pluginpb.FileType_FILE_TYPE_DIRECTORY
	case fs.ModeSymlink:
		return pluginpb.FileType_FILE_TYPE_SYMLINK
	case fs.ModeNamedPipe:
		return pluginpb.FileType_FILE_TYPE_FIFO
	case fs.ModeSocket:
		return pluginpb.FileType_FILE_TYPE_SOCKET
	case fs.ModeDevice:
		return pluginpb.FileType_FILE_TYPE_BLOCK_DEVICE
	case fs.ModeDevice | fs.ModeCharDevice:
		return pluginpb.FileType_FILE_TYPE_CHAR_DEVICE
	}
	return pluginpb.FileType_FILE_TYPE_UNSPECIFIED
}

// permOf turns Unix permission bits into io/fs mode bits and back.
func permOf(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

func modeOf(perm uint32) fs.FileMode {
	m := fs.FileMode(perm & 0o777)
	if perm&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if perm&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if perm&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

// ToProto converts a record for the wire. It does not validate: the
// host does, so that a buggy importer is caught where it is reported.
func ToProto(rec importers.Record) *pluginpb.Record {
	pr := &pluginpb.Record{
		Path: []byte(rec.Path), Type: typeOf(rec.Mode), Perm: permOf(rec.Mode),
		Size: rec.Size, Target: []byte(rec.Target),
		Uid: rec.UID, Gid: rec.GID, User: strings.ToValidUTF8(rec.User, "\uFFFD"), Group: strings.ToValidUTF8(rec.Group, "\uFFFD"),
		Dev: rec.Dev, Inode: rec.Inode, Nlink: rec.Nlink, Rdev: rec.Rdev,
	}
	if !rec.ModTime.IsZero() {
		pr.MtimeNs = rec.ModTime.UnixNano()
	}
	for _, x := range rec.Xattrs {
		pr.Xattrs = append(pr.Xattrs, &pluginpb.Xattr{Name: []byte(x.Name), Value: x.Value})
	}
	if rec.Err != nil {
		pr.Error = strings.ToValidUTF8(rec.Err.Error(), "\uFFFD")
		if pr.Error == "" {
			pr.Error = "error"
		}
		pr.ErrorKind = KindOf(rec.Err)
	}
	return pr
}

// KindOf classifies an error for the wire.
func KindOf(err error) pluginpb.ErrorKind {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return pluginpb.ErrorKind_ERROR_KIND_NOT_EXIST
	case errors.Is(err, fs.ErrPermission):
		return pluginpb.ErrorKind_ERROR_KIND_PERMISSION
	}
	return pluginpb.ErrorKind_ERROR_KIND_OTHER
}

// PathError is a per-path error received from a plugin: its message as
// sent, matching fs.ErrNotExist or fs.ErrPermission by its kind.
type PathError struct {
	Msg  string
	Kind error // nil, fs.ErrNotExist or fs.ErrPermission
}

func (e *PathError) Error() string { return e.Msg }
func (e *PathError) Unwrap() error { return e.Kind }

// FromProto converts and validates one record as received. The order of
// records is checked by the caller.
func FromProto(pr *pluginpb.Record) (importers.Record, error) {
	p := string(pr.Path)
	if err := CheckPath(p); err != nil {
		return importers.Record{}, err
	}
	rec := importers.Record{
		Path: p, Size: pr.Size, Target: string(pr.Target),
		UID: pr.Uid, GID: pr.Gid, User: pr.User, Group: pr.Group,
		Dev: pr.Dev, Inode: pr.Inode, Nlink: pr.Nlink, Rdev: pr.Rdev,
	}
	if pr.MtimeNs != 0 {
		rec.ModTime = time.Unix(0, pr.MtimeNs)
	}
	if err := checkFields(pr); err != nil {
		return rec, fmt.Errorf("record %q: %w", p, err)
	}
	rec.Mode = modeOf(pr.Perm)
	if t, ok := typeModes[pr.Type]; ok {
		rec.Mode |= t
	} else { // an error record that does not know the type
		rec.Mode |= fs.ModeIrregular
	}
	for _, x := range pr.Xattrs {
		rec.Xattrs = append(rec.Xattrs, importers.Xattr{Name: string(x.Name), Value: x.Value})
	}
	if pr.Error != "" {
		e := &PathError{Msg: pr.Error}
		switch pr.ErrorKind {
		case pluginpb.ErrorKind_ERROR_KIND_NOT_EXIST:
			e.Kind = fs.ErrNotExist
		case pluginpb.ErrorKind_ERROR_KIND_PERMISSION:
			e.Kind = fs.ErrPermission
		}
		rec.Err = e
	}
	return rec, nil
}

func checkFields(pr *pluginpb.Record) error {
	_, known := typeModes[pr.Type]
	switch {
	case pr.Type == pluginpb.FileType_FILE_TYPE_UNSPECIFIED && pr.Error == "":
		return errors.New("no file type (allowed only with an error)")
	case pr.Type != pluginpb.FileType_FILE_TYPE_UNSPECIFIED && !known:
		return fmt.Errorf("unknown file type %d", pr.Type)
	case pr.Perm&^0o7777 != 0:
		return fmt.Errorf("permission bits %#o beyond 07777", pr.Perm)
	case pr.Size < 0:
		return fmt.Errorf("negative size %d", pr.Size)
	case pr.Size != 0 && pr.Type != pluginpb.FileType_FILE_TYPE_REGULAR:
		return fmt.Errorf("size %d on a %v", pr.Size, pr.Type)
	case len(pr.Target) != 0 && pr.Type != pluginpb.FileType_FILE_TYPE_SYMLINK:
		return fmt.Errorf("symlink target on a %v", pr.Type)
	case len(pr.Target) == 0 && pr.Type == pluginpb.FileType_FILE_TYPE_SYMLINK && pr.Error == "":
		return errors.New("symlink without a target")
	case strings.IndexByte(string(pr.Target), 0) >= 0:
		return errors.New("symlink target holds a NUL byte")
	case pr.Error == "" && pr.ErrorKind != pluginpb.ErrorKind_ERROR_KIND_OTHER:
		return errors.New("error kind without an error message")
	}
	for _, x := range pr.Xattrs {
		if len(x.Name) == 0 || strings.IndexByte(string(x.Name), 0) >= 0 {
			return fmt.Errorf("bad xattr name %q", x.Name)
		}
	}
	return nil
}
