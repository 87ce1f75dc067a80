#!/usr/bin/env bash
# Quick start: build plakar-gw, create a local repository (passphrase in a
# file next to it), ingest a folder and show what was stored.
# Usage: scripts/quickstart.sh [FOLDER]   (default: this source tree)
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-$PWD}
data=${XDG_DATA_HOME:-$HOME/.local/share}/plakar-gw
mkdir -p "$data" bin
go build -o bin/plakar-gw ./cmd/plakar-gw
if [ ! -s "$data/passphrase" ]; then
	umask 077
	head -c 24 /dev/urandom | base64 > "$data/passphrase"
fi
pgw() { bin/plakar-gw --passphrase-file "$data/passphrase" "$@"; }
if [ ! -e "$data/repo/config" ]; then
	pgw init
fi
pgw ingest --job quickstart "$src" || [ $? -eq 3 ]
pgw snapshots
pgw summary quickstart-latest
cat <<MSG

Repository: $data/repo   (passphrase file: $data/passphrase)
Try:  bin/plakar-gw --passphrase-file $data/passphrase ls quickstart-latest
      bin/plakar-gw --passphrase-file $data/passphrase restore quickstart-latest --to /tmp/restored
Serving snapshots over S3, WebDAV, FUSE and the web UI is not built yet (issues 4-7):
there is no 'serve' command and no URL to print so far.
MSG
