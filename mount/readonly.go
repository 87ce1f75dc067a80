package mount

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// readOnly answers every operation that would change the tree with EROFS.
// The mount is also made with "ro", so the kernel refuses most writes
// before they get here; these are for the ones it forwards.
type readOnly struct{}

var (
	_ fs.NodeSetattrer      = readOnly{}
	_ fs.NodeCreater        = readOnly{}
	_ fs.NodeMkdirer        = readOnly{}
	_ fs.NodeMknoder        = readOnly{}
	_ fs.NodeLinker         = readOnly{}
	_ fs.NodeSymlinker      = readOnly{}
	_ fs.NodeUnlinker       = readOnly{}
	_ fs.NodeRmdirer        = readOnly{}
	_ fs.NodeRenamer        = readOnly{}
	_ fs.NodeSetxattrer     = readOnly{}
	_ fs.NodeRemovexattrer  = readOnly{}
	_ fs.NodeWriter         = readOnly{}
	_ fs.NodeAllocater      = readOnly{}
	_ fs.NodeCopyFileRanger = readOnly{}
)

func (readOnly) Setattr(context.Context, fs.FileHandle, *fuse.SetAttrIn, *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) Create(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EROFS
}

func (readOnly) Mkdir(context.Context, string, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Mknod(context.Context, string, uint32, uint32, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Link(context.Context, fs.InodeEmbedder, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Symlink(context.Context, string, string, *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EROFS
}

func (readOnly) Unlink(context.Context, string) syscall.Errno { return syscall.EROFS }
func (readOnly) Rmdir(context.Context, string) syscall.Errno  { return syscall.EROFS }

func (readOnly) Rename(context.Context, string, fs.InodeEmbedder, string, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) Setxattr(context.Context, string, []byte, uint32) syscall.Errno { return syscall.EROFS }
func (readOnly) Removexattr(context.Context, string) syscall.Errno              { return syscall.EROFS }

func (readOnly) Write(context.Context, fs.FileHandle, []byte, int64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

func (readOnly) Allocate(context.Context, fs.FileHandle, uint64, uint64, uint32) syscall.Errno {
	return syscall.EROFS
}

func (readOnly) CopyFileRange(context.Context, fs.FileHandle, uint64, *fs.Inode, fs.FileHandle, uint64, uint64, uint64) (uint32, syscall.Errno) {
	return 0, syscall.EROFS
}

// writeFlags are open flags that ask for a change.
const writeFlags = syscall.O_WRONLY | syscall.O_RDWR | syscall.O_TRUNC | syscall.O_APPEND | syscall.O_CREAT
