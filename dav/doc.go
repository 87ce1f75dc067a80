// Package dav will own the read-only WebDAV tree over every snapshot, a
// webdav.FileSystem over engine/vfs (issue 5). It holds no code yet.
package dav
