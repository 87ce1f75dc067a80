#!/usr/bin/env bash
# WebDAV through the real binary and real clients: plakar-gw serve --webdav
# over the tricky tree; curl checks auth, OPTIONS and refused writes;
# litmus runs every suite (only the tests that must write may fail: the tree
# is read-only); rclone copies the whole snapshot and diff -r compares it
# with the source, minus what WebDAV cannot show (a FIFO, and symlinks that
# point outside the snapshot or nowhere, which are hidden).
# Needs litmus and rclone (scripts/deps.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

name=dav.sh
export PLAKAR_GW_ACCESS_KEY_ID=davuser PLAKAR_GW_SECRET_ACCESS_KEY='s3cr3t p@ss:word'
user=$PLAKAR_GW_ACCESS_KEY_ID pass=$PLAKAR_GW_SECRET_ACCESS_KEY
# shellcheck source=../lib/tricky-serve.sh
. scripts/lib/tricky-serve.sh

serve_until "WebDAV" --webdav 127.0.0.1:0

echo "-- curl: auth, OPTIONS, refused writes, depth infinity"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code -X PROPFIND -H 'Depth: 0' "$url/")" = 401 ] || fail "no credentials not refused"
[ "$(code -u "$user:wrong" -X PROPFIND -H 'Depth: 0' "$url/")" = 401 ] || fail "wrong password not refused"
[ "$(code -u "$user:$pass" -X PROPFIND -H 'Depth: 0' "$url/")" = 207 ] || fail "right password refused"
curl -s -D - -o /dev/null -u "$user:$pass" -X OPTIONS "$url/" | tr -d '\r' | grep -qix 'dav: 1' || fail "OPTIONS does not say DAV: 1"
[ "$(code -u "$user:$pass" -X PROPFIND -H 'Depth: infinity' "$url/tricky-latest/")" = 403 ] || fail "depth infinity not refused"
before=$(cd "$tmp/repo" && find . -type f -exec sha256sum {} + | sort)
for m in PUT DELETE MKCOL COPY MOVE PROPPATCH LOCK UNLOCK; do
	c=$(code -u "$user:$pass" -X $m -H "Destination: $url/tricky-latest/x" --data-binary x "$url/tricky-latest/exec.sh")
	[ "$c" = 403 ] || fail "$m answered $c"
done
after=$(cd "$tmp/repo" && find . -type f -exec sha256sum {} + | sort)
[ "$before" = "$after" ] || fail "refused writes changed the repository"

echo "-- litmus (all suites; only write tests may fail)"
litmus -k "$url/tricky-latest/" "$user" "$pass" >"$tmp/litmus.out" 2>&1 || true
# Lines read "N. name.... result", printed twice on one line when stdout is
# not a terminal; the last occurrence is the result.
results=$(sed -n 's/.*[0-9][0-9]*\. \([a-z0-9_]*\)\.\.*[ ]*\(pass\|FAIL\|SKIPPED\|WARNING\)\(.*\)$/\1 \2\3/p' "$tmp/litmus.out")
[ -n "$results" ] || { cat "$tmp/litmus.out"; fail "no litmus results"; }
# begin is where every suite creates its collection with MKCOL: a write,
# refused with 403. litmus stops a suite when begin fails, so no other test
# runs; any other failure, or begin failing for another reason, is a bug.
allowed_fail='^begin FAIL (Could not create new collection .* 403 Forbidden'
bad=$(echo "$results" | grep -v ' pass$' | grep -Ev "$allowed_fail" || true)
if [ -n "$bad" ]; then
	cat "$tmp/litmus.out"
	fail "litmus failures outside the allow-list: $bad"
fi
suites=$(grep -c "^-> running" "$tmp/litmus.out" || true)
inits=$(echo "$results" | grep -c '^init pass$' || true)
[ "$suites" = 5 ] && [ "$inits" = 5 ] || { cat "$tmp/litmus.out"; fail "litmus ran $suites suites, $inits init passes"; }
echo "$results" | sed 's/^/   /'

echo "-- rclone copy of the whole snapshot, diff -r against the source"
export RCLONE_CONFIG_GW_TYPE=webdav RCLONE_CONFIG_GW_URL="$url/" RCLONE_CONFIG_GW_VENDOR=other
export RCLONE_CONFIG_GW_USER=$user RCLONE_CONFIG_GW_PASS=$(rclone obscure "$pass")
export RCLONE_CONFIG=/dev/null
rclone lsf GW: >"$tmp/roots" || fail "rclone lsf of the root"
grep -qx 'tricky-latest/' "$tmp/roots" && grep -qx 'snap-[0-9a-f]\{12\}/' "$tmp/roots" || fail "root: $(cat "$tmp/roots")"
# Names are kept byte for byte (the NFC and NFD e-acute are two files).
rclone copy --no-unicode-normalization --create-empty-src-dirs GW:tricky-latest "$tmp/out" || fail "rclone copy"
for hidden in fifo link-abs link-dangling; do
	[ ! -e "$tmp/out/$hidden" ] || fail "$hidden should be hidden"
done
# diff follows the source's symlinks as the server does (link-rel,
# link-dir and nested/a/link-up arrive as a file, a folder and a file).
diff -r -x fifo -x link-abs -x link-dangling "${unreadable[@]}" "$tmp/src" "$tmp/out" || fail "rclone copy differs from the source"
[ -f "$tmp/out/$(printf '\xc3\xa9')" ] && [ -f "$tmp/out/$(printf 'e\xcc\x81')" ] || fail "NFC and NFD names not both copied"

echo "dav.sh: ok"
