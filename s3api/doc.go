// Package s3api owns the read-only S3-compatible API over every snapshot:
// an http.Handler over engine/vfs that maps each snapshot to a bucket.
package s3api
