#!/usr/bin/env bash
# The FUSE mount through the real binary: plakar-gw mount DIR stays in the
# foreground, serves the tricky tree (diff -r, cmp), refuses writes,
# follows a new ingest, refuses a second mount, unmounts and exits 0 on
# SIGTERM, and after a SIGKILL says how to clear the stale mount.
# Needs fuse3 (scripts/deps.sh); skips only where the kernel has no FUSE.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -e /dev/fuse ]; then
	echo "mount.sh: SKIP: the kernel offers no FUSE here (/dev/fuse missing)"
	exit 0
fi

tmp=$(mktemp -d)
mnt=$tmp/mnt
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	if grep -qF " $mnt " /proc/self/mountinfo; then
		fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "mount.sh: FAIL: $*" >&2; [ -f "$tmp/mount.log" ] && sed 's/^/  log: /' "$tmp/mount.log" >&2; exit 1; }
mounted() { grep -qF " $mnt " /proc/self/mountinfo; }

go build -o "$tmp/plakar-gw" ./cmd/plakar-gw
go run ./engine/enginetest/trickytree "$tmp/src" $((20 << 20)) 200 >/dev/null
export PLAKAR_GW_PASSPHRASE=mount-it PLAKAR_GW_REPO=$tmp/repo PLAKAR_GW_CACHE_DIR=$tmp/cache
gw="$tmp/plakar-gw"
"$gw" init >/dev/null
"$gw" ingest --job tricky "$tmp/src" >/dev/null
mkdir "$mnt"

start_mount() {
	"$gw" mount "$mnt" >"$tmp/mount.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "mounted at" "$tmp/mount.log" && mounted && return 0
		kill -0 "$pid" 2>/dev/null || fail "mount exited early"
		sleep 0.2
	done
	fail "not mounted after 20 s"
}

echo "-- mount, diff -r, cmp"
start_mount
ls "$mnt" | grep -q '^snap-[0-9a-f]\{12\}$' || fail "no snap-<id> in $(ls "$mnt")"
[ "$(readlink "$mnt/tricky-latest")" = "$(ls "$mnt" | grep '^snap-')" ] || fail "tricky-latest does not point at the snapshot"
# diff reports any two FIFOs as different; that line is the only one allowed.
out=$(diff -r --no-dereference "$tmp/src" "$mnt/tricky-latest/" || true)
expected="File $tmp/src/fifo is a fifo while file $mnt/tricky-latest/fifo is a fifo"
[ "$out" = "$expected" ] || fail "diff -r: $out"
cmp "$tmp/src/big.bin" "$mnt/tricky-latest/big.bin" || fail "big.bin differs"

echo "-- writes fail with EROFS"
for op in "touch $mnt/tricky-latest/new" "rm $mnt/tricky-latest/exec.sh" "mkdir $mnt/x" "chmod 600 $mnt/tricky-latest/exec.sh"; do
	if err=$($op 2>&1); then fail "$op succeeded"; fi
	case "$err" in *"Read-only file system"*) ;; *) fail "$op: $err" ;; esac
done

echo "-- a new ingest shows without remounting"
mkdir "$tmp/src2" && echo later >"$tmp/src2/later.txt"
"$gw" ingest --job tricky "$tmp/src2" >/dev/null
for _ in $(seq 50); do
	[ "$(cat "$mnt/tricky-latest/later.txt" 2>/dev/null)" = later ] && break
	sleep 0.1
done
[ "$(cat "$mnt/tricky-latest/later.txt" 2>/dev/null)" = later ] || fail "new snapshot not visible after 5 s"

echo "-- a second mount on the same directory is refused"
if out=$("$gw" mount "$mnt" 2>&1); then fail "second mount succeeded"; fi
case "$out" in *"already a mount point"*) ;; *) fail "second mount: $out" ;; esac

echo "-- SIGTERM unmounts and exits 0"
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "exit code $rc after SIGTERM"
! mounted || fail "still mounted after SIGTERM"

echo "-- after SIGKILL, the stale mount is named with its fix"
start_mount
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true
pid=""
if out=$("$gw" mount "$mnt" 2>&1); then fail "mount over a stale mount succeeded"; fi
case "$out" in *"fusermount3 -u"*) ;; *) fail "mount over a stale mount: $out" ;; esac
fusermount3 -u "$mnt" || umount "$mnt"
! mounted || fail "stale mount not cleared"
echo "mount.sh: ok"
