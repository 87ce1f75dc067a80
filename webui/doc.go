// Package webui owns the web UI: an http.Handler over engine/vfs that lets
// a person browse snapshots, per-directory summaries and ingest errors,
// compare two snapshots of a job, see per-job and per-directory charts, and
// download a file, a selection or a directory as a streamed archive. Pages
// are rendered on the server with html/template; the stylesheet, a little
// optional JavaScript and the templates are embedded in the binary, and the
// charts are SVG drawn on the server, so the UI needs no build step, no CDN
// and no JavaScript for browsing and single downloads.
//
// URLs name a snapshot by its 12-hex short id (any id, unique prefix or
// JOB-latest alias works) and a path by its segments, each escaped with
// url.PathEscape:
//
//	/                          snapshots (?job=, ?tag=, ?sort=time|-time)
//	/s/SNAP/PATH               a directory page or a file page
//	/raw/SNAP/PATH             the file itself (Range, ETag; ?inline=1 for previews)
//	/archive/SNAP/PATH         a directory as .zip or .tar.gz (?format=)
//	/select/SNAP/DIR           a selection of DIR's entries (?p=NAME… or a POSTed form)
//	/job/NAME                  a job's snapshots and its chart over time
//	/diff?a=SNAP&b=SNAP        paths added, removed and changed between two snapshots
//	/login, /logout            the session
//
// The dedup ratio of a snapshot is its logical size (the root's
// Summary.Subtree.Bytes) divided by the bytes its ingest added to the
// repository (Ingest.StoredAdded, after dedup and compression): how many
// bytes it reads back for each byte it cost. It is undefined (shown as "∞"
// and drawn at the top of the chart) when the ingest stored nothing new.
package webui
