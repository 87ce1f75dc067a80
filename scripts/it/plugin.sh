#!/usr/bin/env bash
# Importer plugins end to end, with the real CLI and the example plugin:
#   - the tar plugin built into a plugins folder, with a README and a
#     script that is no plugin next to it: "plugin list" shows tar with its
#     version and scheme, and the broken one as unusable (exit 1);
#   - plakar-gw ingest tar:///...tar.gz of the tricky tree (made by GNU
#     tar), restore, diff -r against the tree; a job with "importer: tar";
#   - an unknown option, a damaged archive and an archive escaping its root
#     each fail without writing a snapshot;
#   - no plugin process is left behind.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS

tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

gw=$tmp/plakar-gw
go build -o "$gw" ./cmd/plakar-gw
mkdir -p "$tmp/plugins"
go build -o "$tmp/plugins/tar" ./importers/plugin/example/tar
echo "see the README of the tar plugin" >"$tmp/plugins/README.md"
printf '#!/bin/sh\necho not a plugin\n' >"$tmp/plugins/broken"
chmod +x "$tmp/plugins/broken"

export PLAKAR_GW_PLUGINS_DIR=$tmp/plugins XDG_CACHE_HOME=$tmp/cache PLAKAR_GW_PASSPHRASE=it-secret
repo=$tmp/repo
"$gw" --repo "$repo" init >/dev/null

echo "-- plugin list"
if "$gw" plugin list >"$tmp/list" 2>"$tmp/list.err"; then
	fail "plugin list exited 0 with a broken plugin in the folder"
fi
grep -Eq '^tar +1\.0\.0 +tar:// +'"$tmp"'/plugins/tar +ok' "$tmp/list" || fail "plugin list: $(cat "$tmp/list")"
grep -q 'broken.*not a plakar-gw importer plugin' "$tmp/list.err" || fail "plugin list stderr: $(cat "$tmp/list.err")"
rm "$tmp/plugins/broken"
"$gw" plugin list --json | python3 -c 'import json,sys; l=json.load(sys.stdin); assert [p["name"] for p in l]==["tar"] and l[0]["schemes"]==["tar"], l'

echo "-- ingest tar:///... of the tricky tree, restore, compare"
mkdir "$tmp/src"
go run ./engine/enginetest/trickytree "$tmp/src" $((8 << 20)) 500 >/dev/null
tar --format=pax --xattrs --xattrs-include='user.*' -C "$tmp/src" -czf "$tmp/tree.tar.gz" .
"$gw" --repo "$repo" ingest --job arch "tar://$tmp/tree.tar.gz" >"$tmp/ingest.out"
grep -q '0 errors' "$tmp/ingest.out" || fail "ingest: $(cat "$tmp/ingest.out")"
"$gw" --repo "$repo" restore arch-latest --to "$tmp/restored" >/dev/null
# diff reports two FIFOs as a difference: they have no content to compare.
diff -r --no-dereference "$tmp/src" "$tmp/restored" | grep -v 'is a fifo while file .* is a fifo$' >"$tmp/diff" || true
[ ! -s "$tmp/diff" ] || fail "restored tree differs: $(head -20 "$tmp/diff")"
[ -p "$tmp/restored/fifo" ] || fail "fifo not restored"
# Metadata diff -r does not see: type and mode bits, link count, owners,
# nanosecond mtimes, symlink targets.
meta() { (cd "$1" && find . -mindepth 1 -print0 | sort -z | xargs -0 stat -c '%n %F %a %h %u %g %.9Y %N'); }
meta "$tmp/src" >"$tmp/meta.src"
meta "$tmp/restored" >"$tmp/meta.restored"
diff "$tmp/meta.src" "$tmp/meta.restored" >"$tmp/meta.diff" || fail "metadata differs: $(head -20 "$tmp/meta.diff")"
[ "$(stat -c %h "$tmp/restored/hard1")" = 3 ] || fail "hardlinks not kept"

echo "-- a job with importer: tar"
cat >"$tmp/config.yaml" <<YAML
repository:
  path: $repo
plugins:
  dir: $tmp/plugins
jobs:
  - name: nightly
    importer: tar
    source: $tmp/tree.tar.gz
    options:
      tmpdir: $tmp
YAML
"$gw" --config "$tmp/config.yaml" ingest --job nightly >/dev/null
"$gw" --repo "$repo" snapshots | grep -q 'nightly' || fail "job snapshot missing"

count() { "$gw" --repo "$repo" snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
before=$(count)

echo "-- failures write no snapshot"
if "$gw" --repo "$repo" ingest "tar://$tmp/tree.tar.gz" -o nope=1 2>"$tmp/err"; then fail "unknown option accepted"; fi
grep -q 'takes no option "nope"' "$tmp/err" || fail "unknown option: $(cat "$tmp/err")"
head -c 100000 "$tmp/tree.tar.gz" >"$tmp/cut.tar.gz"
if "$gw" --repo "$repo" ingest "tar://$tmp/cut.tar.gz" 2>"$tmp/err"; then fail "a truncated archive was ingested"; fi
grep -q 'unexpected EOF' "$tmp/err" || fail "truncated archive: $(cat "$tmp/err")"
python3 - "$tmp/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"evil"
    info = tarfile.TarInfo("../../etc/evil")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
if "$gw" --repo "$repo" ingest "tar://$tmp/evil.tar" 2>"$tmp/err"; then fail "an escaping archive was ingested"; fi
grep -q "leaves the archive's root" "$tmp/err" || fail "escaping archive: $(cat "$tmp/err")"
[ "$(count)" = "$before" ] || fail "a failed ingest wrote a snapshot"

echo "-- no plugin process left"
if pgrep -f "$tmp/plugins/tar" >/dev/null; then
	ps -ef | grep "$tmp/plugins/tar" >&2
	fail "a plugin process outlived plakar-gw"
fi

echo "plugin.sh: all passed in $((SECONDS - start))s"
