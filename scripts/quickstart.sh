#!/usr/bin/env bash
# Quick start: build plakar-gw, create a local repository (passphrase and an
# S3 key pair in files next to it), ingest a folder, and serve every
# snapshot read-only over S3 and WebDAV on 127.0.0.1 until Ctrl-C.
# Usage: scripts/quickstart.sh [FOLDER]   (default: this source tree)
# Ports: PLAKAR_GW_S3_ADDR (127.0.0.1:9000), PLAKAR_GW_WEBDAV_ADDR (127.0.0.1:9001).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-$PWD}
data=${XDG_DATA_HOME:-$HOME/.local/share}/plakar-gw
s3addr=${PLAKAR_GW_S3_ADDR:-127.0.0.1:9000}
davaddr=${PLAKAR_GW_WEBDAV_ADDR:-127.0.0.1:9001}
mkdir -p "$data" bin
go build -o bin/plakar-gw ./cmd/plakar-gw
(
	umask 077
	[ -s "$data/passphrase" ] || head -c 24 /dev/urandom | base64 > "$data/passphrase"
	[ -s "$data/s3-secret" ] || head -c 30 /dev/urandom | base64 | tr '+/' '-_' > "$data/s3-secret"
)
pgw() { bin/plakar-gw --passphrase-file "$data/passphrase" "$@"; }
if [ ! -e "$data/repo/config" ]; then
	pgw init
fi
pgw ingest --job quickstart "$src" || [ $? -eq 3 ]
pgw snapshots
cat <<MSG

Repository: $data/repo   (passphrase file: $data/passphrase)
Other commands: bin/plakar-gw --passphrase-file $data/passphrase ls quickstart-latest
                bin/plakar-gw --passphrase-file $data/passphrase mount /tmp/snapshots
Serving (Ctrl-C stops); bucket quickstart-latest is the snapshot just made:
MSG
exec bin/plakar-gw --passphrase-file "$data/passphrase" serve --s3 "$s3addr" --webdav "$davaddr" \
	--access-key-id quickstart --secret-access-key-file "$data/s3-secret"
