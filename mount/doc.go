// Package mount will own the FUSE mount of the repository over engine/vfs
// (issue 6). It holds no code yet.
package mount
