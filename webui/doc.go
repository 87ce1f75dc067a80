// Package webui owns the web UI: an http.Handler over engine/vfs that lets
// a person browse snapshots, per-directory summaries and ingest errors, and
// download a file, a selection or a directory as an archive. Its assets are
// embedded in the binary.
package webui
