#!/usr/bin/env bash
# Benchmark of the WebDAV frontend (issue 5), not run by CI:
#   - PROPFIND depth 1 on a directory of 10,000 and of 100,000 entries,
#     each on a fresh server: first (cold tree nodes) and second request,
#     with the growth of the server's peak RSS (VmHWM, reset before each
#     request where the kernel allows) over its RSS before the request;
#   - GET of a 1 GiB file through WebDAV against a plain http.FileServer on
#     the same source file, in the same run (best of 3 each, curl).
# Prints a markdown table; targets: 10k <= 0.3 s, 100k <= 2 s, memory
# growth <= 64 MB, GET ratio >= 0.6.
#
# usage: bench/dav/run.sh [--work DIR] [--size BYTES] [--reuse]
# --reuse keeps the source and repository of an earlier run in DIR.
# Needs curl, python3 and about 2.5 GiB free in the work dir.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=/tmp/plakar-gw-dav-bench
SIZE=$((1 << 30))
REUSE=no
while (($#)); do
	case $1 in
	--work) WORK=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--reuse) REUSE=yes; shift ;;
	*) echo "usage: $0 [--work DIR] [--size BYTES] [--reuse]" >&2; exit 2 ;;
	esac
done

log() { printf '==> %s\n' "$*" >&2; }
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

export PLAKAR_GW_PASSPHRASE=bench PLAKAR_GW_REPO=$WORK/repo PLAKAR_GW_CACHE_DIR=$WORK/cache
export PLAKAR_GW_ACCESS_KEY_ID=bench PLAKAR_GW_SECRET_ACCESS_KEY=bench-secret
mkdir -p "$WORK"
log "building"
go build -o "$WORK/plakar-gw" ./cmd/plakar-gw
go build -o "$WORK/fileserver" ./bench/dav/fileserver
if [ "$REUSE" = no ] || [ ! -d "$WORK/repo" ]; then
	rm -rf "$WORK/src" "$WORK/repo" "$WORK/cache"
	mkdir -p "$WORK/src"
	log "source: d10k/ (10,000 files), d100k/ (100,000 files), huge.bin ($SIZE bytes)"
	python3 - "$WORK/src" <<'PY'
import os, sys
root = sys.argv[1]
for d, n in (("d10k", 10000), ("d100k", 100000)):
    os.makedirs(os.path.join(root, d))
    for i in range(n):
        with open(os.path.join(root, d, "file-%06d.txt" % i), "w") as f:
            f.write("entry %d\n" % i)
PY
	head -c "$SIZE" /dev/urandom >"$WORK/src/huge.bin"
	"$WORK/plakar-gw" init >/dev/null
	log "ingest"
	"$WORK/plakar-gw" ingest --job bench "$WORK/src" >/dev/null 2>&1
fi

url=""
start() { # start NAME CMD...: runs CMD in the background, sets url from its output
	local out=$WORK/$1.log
	url=""
	shift
	"$@" >"$out" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do
		url=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$out" | head -1 || true)
		[ -n "$url" ] && break
		sleep 0.1
	done
	[ -n "$url" ] || { cat "$out" >&2; exit 1; }
}
auth=(-u "$PLAKAR_GW_ACCESS_KEY_ID:$PLAKAR_GW_SECRET_ACCESS_KEY")
# fresh_dav: a new WebDAV server (the previous one stopped), so that each
# measure starts from a process that has read nothing yet.
fresh_dav() {
	if [ -n "${davpid:-}" ]; then
		kill -TERM "$davpid"
		wait "$davpid" 2>/dev/null || true
		local live=() p
		for p in "${pids[@]}"; do [ "$p" = "$davpid" ] || live+=("$p"); done
		pids=("${live[@]}")
	fi
	start dav "$WORK/plakar-gw" serve --webdav 127.0.0.1:0
	dav=$url davpid=${pids[${#pids[@]} - 1]}
	curl -s -o /dev/null "${auth[@]}" -X PROPFIND -H 'Depth: 0' "$dav/" # bcrypt once
}

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
rows=()
propfind() { # propfind DIR ENTRIES
	for run in first second; do
		echo 5 >"/proc/$davpid/clear_refs" 2>/dev/null || true
		local rss hwm t n
		rss=$(kib "$davpid" VmRSS)
		t=$(curl -s -o "$WORK/ms.xml" -w '%{time_total}' "${auth[@]}" -X PROPFIND -H 'Depth: 1' "$dav/bench-latest/$1/")
		hwm=$(kib "$davpid" VmHWM)
		n=$(grep -o '<D:response>' "$WORK/ms.xml" | wc -l)
		[ "$n" = $(($2 + 1)) ] || { echo "PROPFIND $1: $n responses, want $(($2 + 1))" >&2; exit 1; }
		rows+=("| PROPFIND depth 1, $2 entries ($run) | $t s | $(awk -v a="$hwm" -v b="$rss" 'BEGIN { d = (a - b) / 1024; if (d < 0) d = 0; printf "%.1f MB", d }') | $(du -k "$WORK/ms.xml" | cut -f1) KiB reply |")
	done
}
log "PROPFIND"
fresh_dav
propfind d10k 10000
fresh_dav
propfind d100k 100000

fresh_dav
start plain "$WORK/fileserver" "$WORK/src"
plain=$url plainpid=${pids[${#pids[@]} - 1]}

log "GET $SIZE bytes, 3 times each, alternating"
# cpu PID: user+system seconds the process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
best_dav=0 best_plain=0 cpu_dav=0 cpu_plain=0
for _ in 1 2 3; do
	c0=$(cpu "$davpid")
	s=$(curl -s -o /dev/null -w '%{speed_download}' "${auth[@]}" "$dav/bench-latest/huge.bin")
	cpu_dav=$(awk -v a="$cpu_dav" -v b="$c0" -v c="$(cpu "$davpid")" 'BEGIN { print a + c - b }')
	best_dav=$(awk -v a="$s" -v b="$best_dav" 'BEGIN { print (a > b) ? a : b }')
	c0=$(cpu "$plainpid")
	s=$(curl -s -o /dev/null -w '%{speed_download}' "$plain/huge.bin")
	cpu_plain=$(awk -v a="$cpu_plain" -v b="$c0" -v c="$(cpu "$plainpid")" 'BEGIN { print a + c - b }')
	best_plain=$(awk -v a="$s" -v b="$best_plain" 'BEGIN { print (a > b) ? a : b }')
done
ratio=$(awk -v a="$best_dav" -v b="$best_plain" 'BEGIN { printf "%.2f", a / b }')
mbs() { awk -v s="$1" 'BEGIN { printf "%.0f MB/s", s / 1e6 }'; }

echo
echo "| measure | time / speed | server memory growth | notes |"
echo "|---|---|---|---|"
for r in "${rows[@]}"; do echo "$r"; done
echo "| GET huge.bin via WebDAV | $(mbs "$best_dav") | | best of 3; server CPU $(awk -v c="$cpu_dav" 'BEGIN { printf "%.2f", c / 3 }') s per GET |"
echo "| GET huge.bin via http.FileServer | $(mbs "$best_plain") | | best of 3, same file; server CPU $(awk -v c="$cpu_plain" 'BEGIN { printf "%.2f", c / 3 }') s per GET |"
echo "| ratio WebDAV / FileServer | $ratio | | target >= 0.6 |"
echo
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "peak RSS of the WebDAV server over the GETs: $(kib "$davpid" VmHWM) KiB"
