package wire

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/plakar-gw/plakar-gw/importers"
	"github.com/plakar-gw/plakar-gw/importers/plugin/pluginpb"
)

// TestRoundTrip: what the SDK sends is what the host gets back.
func TestRoundTrip(t *testing.T) {
	recs := []importers.Record{
		{Path: "/", Mode: fs.ModeDir | fs.ModeSticky | 0o777, ModTime: time.Unix(1, 2)},
		{Path: "/f", Mode: fs.ModeSetuid | fs.ModeSetgid | 0o755, Size: 10, UID: 1, GID: 2, User: "u", Group: "g",
			Dev: 3, Inode: 4, Nlink: 2, Xattrs: []importers.Xattr{{Name: "user.x", Value: []byte{0, 1}}}},
		{Path: "/l", Mode: fs.ModeSymlink | 0o777, Target: "../x"},
		{Path: "/c", Mode: fs.ModeDevice | fs.ModeCharDevice | 0o600, Rdev: 42},
		{Path: "/p", Mode: fs.ModeNamedPipe | 0o600},
		{Path: "/gone", Err: &fs.PathError{Op: "lstat", Path: "/gone", Err: fs.ErrNotExist}},
		{Path: "/bad\xffname", Mode: 0o644},
	}
	for _, rec := range recs {
		got, err := FromProto(ToProto(rec))
		if err != nil {
			t.Errorf("%q: %v", rec.Path, err)
			continue
		}
		if rec.Err != nil {
			if !errors.Is(got.Err, fs.ErrNotExist) || got.Err.Error() != rec.Err.Error() {
				t.Errorf("%q: error %v", rec.Path, got.Err)
			}
			continue
		}
		if got.Path != rec.Path || got.Mode != rec.Mode || got.Size != rec.Size || !got.ModTime.Equal(rec.ModTime) ||
			got.Target != rec.Target || got.Rdev != rec.Rdev || got.Nlink != rec.Nlink || len(got.Xattrs) != len(rec.Xattrs) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, rec)
		}
	}
}

func TestRejects(t *testing.T) {
	dir, reg := pluginpb.FileType_FILE_TYPE_DIRECTORY, pluginpb.FileType_FILE_TYPE_REGULAR
	for _, c := range []struct {
		rec  *pluginpb.Record
		want string
	}{
		{&pluginpb.Record{Path: []byte("a"), Type: reg}, "not absolute"},
		{&pluginpb.Record{Path: []byte("/a/../b"), Type: reg}, "not clean"},
		{&pluginpb.Record{Path: []byte("/a/"), Type: dir}, "not clean"},
		{&pluginpb.Record{Path: []byte("/a\x00b"), Type: reg}, "NUL"},
		{&pluginpb.Record{Path: []byte(""), Type: reg}, "empty path"},
		{&pluginpb.Record{Path: []byte("/a"), Type: 99}, "unknown file type"},
		{&pluginpb.Record{Path: []byte("/a")}, "no file type"},
		{&pluginpb.Record{Path: []byte("/a"), Type: reg, Size: -1}, "negative size"},
		{&pluginpb.Record{Path: []byte("/a"), Type: dir, Size: 1}, "size 1 on a"},
		{&pluginpb.Record{Path: []byte("/a"), Type: reg, Perm: 0o10000}, "beyond 07777"},
		{&pluginpb.Record{Path: []byte("/a"), Type: reg, Target: []byte("x")}, "symlink target on"},
		{&pluginpb.Record{Path: []byte("/a"), Type: pluginpb.FileType_FILE_TYPE_SYMLINK}, "without a target"},
		{&pluginpb.Record{Path: []byte("/a"), Type: reg, Xattrs: []*pluginpb.Xattr{{}}}, "bad xattr name"},
	} {
		if _, err := FromProto(c.rec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v; want %q", c.rec, err, c.want)
		}
	}
}

// FuzzFromProto: any bytes that decode as a Record are either refused or
// give a record with a valid path and a mode that agrees with its fields.
func FuzzFromProto(f *testing.F) {
	for _, r := range []importers.Record{{Path: "/", Mode: fs.ModeDir}, {Path: "/a/b", Size: 3}, {Path: "/l", Mode: fs.ModeSymlink, Target: "x"}} {
		b, _ := proto.Marshal(ToProto(r))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var pr pluginpb.Record
		if proto.Unmarshal(b, &pr) != nil {
			return
		}
		rec, err := FromProto(&pr)
		if err != nil {
			return
		}
		if CheckPath(rec.Path) != nil || rec.Size < 0 || (rec.Size > 0 && !rec.Mode.IsRegular()) {
			t.Errorf("accepted %+v", rec)
		}
	})
}
