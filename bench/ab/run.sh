#!/usr/bin/env bash
# A/B of plakar-gw builds on one ingest: the binaries take turns, each run
# into a fresh repository and cache, the source read once beforehand so
# that every run starts with it in the page cache. Prints wall seconds,
# user and system CPU seconds and peak RSS (KiB) per run; compare the two
# columns of the same round (the machine's noise moves both).
#
#   bench/ab/run.sh SOURCE ROUNDS BINARY...
#   e.g. git stash; go build -o /tmp/old ./cmd/plakar-gw; git stash pop
#        go build -o /tmp/new ./cmd/plakar-gw
#        bench/ab/run.sh /tmp/plakar-gw-bench-importers/data/big 5 /tmp/old /tmp/new
#
# SOURCE is anything ingest takes (a folder, ftp://..., s3://...).
set -euo pipefail
[ $# -ge 3 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
src=$1 rounds=$2
shift 2
work=$(mktemp -d /tmp/plakar-gw-ab.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PLAKAR_GW_PASSPHRASE=ab
[ -e "$src" ] && find "$src" -type f -exec cat {} + >/dev/null
printf '%-28s %8s %8s %8s %10s\n' binary wall user sys maxrss_kib
for _ in $(seq "$rounds"); do
	for bin in "$@"; do
		rm -rf "$work/run" && mkdir -p "$work/run"
		"$bin" --repo "$work/run/repo" init >/dev/null
		sync
		start=$(date +%s.%N)
		/usr/bin/time -f '%U %S %M' -o "$work/time" "$bin" --repo "$work/run/repo" --cache-dir "$work/run/cache" ingest "$src" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
		end=$(date +%s.%N)
		read -r user sys rss <"$work/time"
		printf '%-28s %8.3f %8s %8s %10s\n' "$(basename "$bin")" "$(echo "$end - $start" | bc)" "$user" "$sys" "$rss"
	done
done
