// Package dav owns the read-only WebDAV tree over every snapshot: an
// http.Handler built on golang.org/x/net/webdav with a read-only
// webdav.FileSystem over engine/vfs.
package dav
