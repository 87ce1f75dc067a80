// Package s3api will own the read-only S3-compatible API over every
// snapshot, as an http.Handler over engine/vfs (issue 4). It holds no code
// yet; nothing serves S3 today.
package s3api
