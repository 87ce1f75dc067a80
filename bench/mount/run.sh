#!/usr/bin/env bash
# Benchmark of the FUSE mount (issue 6), not run by CI:
#   - sequential read of a 1 GiB file through the mount, cold (fresh mount,
#     page cache dropped) and warm, against cat of the same file from disk;
#   - find over a 100,000-file snapshot;
#   - peak RSS (VmHWM) of the mount processes over all of it.
# Each timing is the best of ROUNDS runs (the machine is shared: the best
# run is the one least disturbed). "warm, first re-read" is the read right
# after the cold one; "warm, steady" the one after that.
# Prints a markdown table; targets: warm ratio >= 0.8, cold >= 0.4,
# find <= 3 s, peak RSS <= 200 MB.
#
# usage: bench/mount/run.sh [--work DIR] [--size BYTES] [--files N] [--rounds N] [--reuse]
# --reuse keeps the data and repository of the previous run in DIR.
# Needs root (to drop the page cache; without it "cold" is only a fresh
# mount), /dev/fuse and fuse3, python3, about 3 GiB free in the work dir.
set -euo pipefail
cd "$(dirname "$0")/../.."

WORK=/tmp/plakar-gw-mount-bench
SIZE=$((1 << 30))
FILES=100000
ROUNDS=3
REUSE=no
while (($#)); do
	case $1 in
	--reuse) REUSE=yes; shift ;;
	--work) WORK=$2; shift 2 ;;
	--size) SIZE=$2; shift 2 ;;
	--files) FILES=$2; shift 2 ;;
	--rounds) ROUNDS=$2; shift 2 ;;
	*) echo "usage: $0 [--work DIR] [--size BYTES] [--files N] [--rounds N] [--reuse]" >&2; exit 2 ;;
	esac
done

log() { printf '==> %s\n' "$*" >&2; }
mnt=$WORK/mnt
pid=""
stop_mount() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	pid=""
	if grep -qF " $mnt " /proc/self/mountinfo; then fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" || true; fi
}
trap stop_mount EXIT

drop=no
drop_caches() {
	sync
	if echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then drop=yes; fi
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# seconds CMD...: runs CMD with its output discarded and prints the elapsed seconds.
seconds() {
	local t0
	t0=$(now)
	"$@" >/dev/null
	since "$t0"
}
best() { printf '%s\n' "$@" | sort -g | head -1; }
mbps() { awk -v s="$SIZE" -v t="$1" 'BEGIN { printf "%.0f", s / t / 1e6 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
hwm() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$pid/status"; }

start_mount() {
	"$gw" mount "$mnt" >"$WORK/mount.log" 2>&1 &
	pid=$!
	for _ in $(seq 300); do
		grep -q "mounted at" "$WORK/mount.log" && return 0
		sleep 0.1
	done
	cat "$WORK/mount.log" >&2
	exit 1
}

if [ -e "$WORK" ] && [ ! -e "$WORK/.mount-bench" ]; then
	echo "refusing to clean $WORK: not made by this script" >&2
	exit 1
fi
stop_mount
if [ "$REUSE" = yes ] && [ -e "$WORK/.mount-bench-data" ]; then
	SIZE=$(stat -c %s "$WORK/src/big/big.bin")
	FILES=$(cat "$WORK/.mount-bench-data")
else
	REUSE=no
	rm -rf "$WORK"
	mkdir -p "$WORK/src/big" "$WORK/src/many" "$mnt"
	touch "$WORK/.mount-bench"
fi

log "building plakar-gw"
go build -o "$WORK/plakar-gw" ./cmd/plakar-gw
gw=$WORK/plakar-gw
export PLAKAR_GW_PASSPHRASE=bench PLAKAR_GW_REPO=$WORK/repo PLAKAR_GW_CACHE_DIR=$WORK/cache

if [ "$REUSE" = no ]; then
	log "writing a $SIZE-byte random file and $FILES small files"
	head -c "$SIZE" /dev/urandom >"$WORK/src/big/big.bin"
	python3 - "$WORK/src/many" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 1000))
    if i % 1000 == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "w") as f:
        f.write("file %d\n" % i)
PY

	log "ingesting"
	"$gw" init >/dev/null
	"$gw" ingest --job big "$WORK/src/big" >/dev/null
	"$gw" ingest --job many "$WORK/src/many" >/dev/null
	echo "$FILES" >"$WORK/.mount-bench-data"
fi

dc=() dw=() ds=() ec=() mc=() mw=() ms=() fc=() fw=() loads=() rss=()
for round in $(seq "$ROUNDS"); do
	log "round $round: cat from disk"
	drop_caches
	dc+=("$(seconds cat "$WORK/src/big/big.bin")")
	dw+=("$(seconds cat "$WORK/src/big/big.bin")")
	ds+=("$(seconds cat "$WORK/src/big/big.bin")")

	log "round $round: plakar-gw cat (the engine's read path without FUSE)"
	drop_caches
	ec+=("$(seconds "$gw" cat big-latest:/big.bin)")

	log "round $round: cat through a fresh mount"
	drop_caches
	start_mount
	mc+=("$(seconds cat "$mnt/big-latest/big.bin")")
	mw+=("$(seconds cat "$mnt/big-latest/big.bin")")
	ms+=("$(seconds cat "$mnt/big-latest/big.bin")")
	cmp "$WORK/src/big/big.bin" "$mnt/big-latest/big.bin"
	rss_read=$(hwm)

	log "round $round: find over $FILES files"
	t0=$(now)
	count=$(find "$mnt/many-latest/" | wc -l)
	fc+=("$(since "$t0")")
	fw+=("$(seconds find "$mnt/many-latest/")")
	[ "$count" -ge "$((FILES + 1))" ] || { echo "find counted $count entries" >&2; exit 1; }
	rss_find=$(hwm)
	rss+=("$rss_read" "$rss_find")
	loads+=("$(cut -d' ' -f1 /proc/loadavg)")
	log "round $round: mount cold $(best "${mc[-1]}") s, disk cold ${dc[-1]} s, find ${fc[-1]} s, RSS $rss_read/$rss_find MB"
	stop_mount
done

dc=$(best "${dc[@]}") dw=$(best "${dw[@]}") ds=$(best "${ds[@]}")
ec=$(best "${ec[@]}")
mc=$(best "${mc[@]}") mw=$(best "${mw[@]}") ms=$(best "${ms[@]}")
fc=$(best "${fc[@]}") fw=$(best "${fw[@]}")
maxrss=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
cat <<TABLE

Mount benchmark: $(nproc) cores, kernel $(uname -r), $((SIZE >> 20)) MiB file, $FILES files,
page cache dropped before cold reads: $drop, best of $ROUNDS rounds (load averages: ${loads[*]})

| measure | disk (cat) | mount (cat) | ratio (mount/disk throughput) | target |
|---|---|---|---|---|
| sequential read, cold | $dc s ($(mbps "$dc") MB/s) | $mc s ($(mbps "$mc") MB/s) | $(ratio "$dc" "$mc") | >= 0.4 |
| same, plakar-gw cat instead of the mount (engine, no FUSE; includes opening the repository) | | $ec s ($(mbps "$ec") MB/s) | $(ratio "$dc" "$ec") | |
| sequential read, warm (first re-read) | $dw s ($(mbps "$dw") MB/s) | $mw s ($(mbps "$mw") MB/s) | $(ratio "$dw" "$mw") | >= 0.8 |
| sequential read, warm (steady) | $ds s ($(mbps "$ds") MB/s) | $ms s ($(mbps "$ms") MB/s) | $(ratio "$ds" "$ms") | >= 0.8 |
| find \| wc -l ($count entries), fresh mount | | $fc s | | <= 3 s |
| find again (kernel caches) | | $fw s | | |
| peak RSS (VmHWM) of the mount processes | | $maxrss MB | | <= 200 MB |
TABLE
