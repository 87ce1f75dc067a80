// Package s3api owns the read-only S3-compatible API over every snapshot:
// an http.Handler over engine/vfs that maps each snapshot to a bucket
// (snap-<12 hex>, plus <job>-latest for the newest snapshot of each job),
// verifies AWS Signature V4 (header and presigned), lists keys in S3 order
// straight from the snapshot's Walk (a seek, never a scan), streams objects
// with ranges and conditional requests, and refuses every write.
//
// What S3 cannot say about a file tree, and how this package answers:
//
//   - Directories are implied by the keys under them. An empty directory is
//     a zero-byte object "dir/" (what the S3 console makes for a folder);
//     aws s3 sync and cp skip such markers, so empty directories do not
//     reach the client's disk. A directory holding only entries that are
//     not objects (a FIFO, a dangling link) is neither: it does not show.
//   - A symlink is an object only when it resolves, inside the snapshot, to
//     a regular file; it then has the target's size, ETag and time. Dangling,
//     absolute and escaping links are not listed, nor are links to
//     directories (their contents are listed once, under their real path).
//     GET follows in-snapshot links in every component.
//   - FIFOs, devices and sockets are not objects.
//   - ETags are "<32 hex>-1": the first half of the content id, in the shape
//     of a one-part multipart ETag, because some clients (rclone) compare a
//     plain 32-hex ETag with the MD5 of what they downloaded, and the content
//     id is not an MD5.
//   - A key holding a control character that XML 1.0 cannot carry (other
//     than tab, newline, carriage return) is only listed faithfully with
//     encoding-type=url, which the aws CLI and most SDKs send.
//   - A request for several ranges at once is answered with the whole
//     object (200), as S3 does.
//   - Keys with "." or ".." segments, empty segments, an encoded slash
//     (%2F), NUL or invalid UTF-8 cannot name anything in a snapshot and are
//     refused with 400 InvalidURI.
package s3api
