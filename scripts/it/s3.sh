#!/usr/bin/env bash
# S3 frontend end to end: the tricky tree ingested by the real CLI, served
# by "plakar-gw serve --s3" on 127.0.0.1, read back with the aws CLI (v1)
# and boto3. Any mismatch exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

for tool in aws python3; do
	command -v "$tool" >/dev/null || { echo "s3.sh: $tool is not installed (the aws CLI v1 and python3 boto3 are)"; exit 1; }
done
python3 -c 'import boto3' || { echo "s3.sh: python3 has no boto3"; exit 1; }

tmp=$(mktemp -d)
server=""
cleanup() {
	if [ -n "$server" ]; then
		kill "$server" 2>/dev/null || true
		wait "$server" 2>/dev/null || true
	fi
	chmod -R u+rwx "$tmp" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "-- build"
go build -o "$tmp/plakar-gw" ./cmd/plakar-gw
gw() { "$tmp/plakar-gw" --repo "$tmp/repo" --cache-dir "$tmp/cache" "$@"; }
export PLAKAR_GW_PASSPHRASE="s3 integration test"

echo "-- tricky tree, init, ingest"
go run ./engine/enginetest/trickytree "$tmp/src" $((3 << 20)) 40
gw init >/dev/null
# Exit 3 is a partial snapshot: not root, mode000 cannot be read and is
# recorded as an error (and so is not expected below either).
rc=0
gw ingest --job tricky "$tmp/src" >/dev/null || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || { echo "ingest failed: $rc"; exit 1; }

echo "-- serve"
export PLAKAR_GW_ACCESS_KEY_ID=itkey
export PLAKAR_GW_SECRET_ACCESS_KEY="it-secret-$RANDOM$RANDOM"
# The binary itself, not the gw function: $! must be the server, or the
# cleanup kills a subshell and leaves the server running.
"$tmp/plakar-gw" --repo "$tmp/repo" --cache-dir "$tmp/cache" serve --s3 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
endpoint=""
for _ in $(seq 100); do
	endpoint=$(sed -n 's|^S3 API: *\(http://[^ ]*\)$|\1|p' "$tmp/serve.out")
	[ -n "$endpoint" ] && break
	kill -0 "$server" 2>/dev/null || { cat "$tmp/serve.err"; echo "serve exited"; exit 1; }
	sleep 0.1
done
[ -n "$endpoint" ] || { cat "$tmp/serve.err"; echo "serve did not print its URL"; exit 1; }
echo "endpoint $endpoint"

# A throwaway AWS configuration: nothing from ~/.aws leaks in.
mkdir -p "$tmp/aws"
: >"$tmp/aws/config"
: >"$tmp/aws/credentials"
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL 2>/dev/null || true
export AWS_CONFIG_FILE="$tmp/aws/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/aws/credentials"
export AWS_ACCESS_KEY_ID=$PLAKAR_GW_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$PLAKAR_GW_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
s3() { aws --endpoint-url "$endpoint" s3 "$@"; }
fail() { echo "FAIL: $*"; exit 1; }

echo "-- aws s3 ls"
s3 ls >"$tmp/buckets"
grep -q ' tricky-latest$' "$tmp/buckets" || fail "no tricky-latest bucket: $(cat "$tmp/buckets")"
grep -Eq ' snap-[0-9a-f]{12}$' "$tmp/buckets" || fail "no snap- bucket"

echo "-- aws s3 ls --recursive"
s3 ls --recursive s3://tricky-latest >"$tmp/ls"
# Lines are "DATE TIME SIZE KEY"; a key with a newline continues on the
# next line. Rebuild the keys and compare them with the expected set.
python3 - "$tmp/ls" "$tmp/src" <<'PY'
import re, subprocess, sys
keys = []
for line in open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]:
    m = re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+ (.*)$", line)
    if m:
        keys.append(m.group(1))
    else:
        keys[-1] += "\n" + line
want = subprocess.run([sys.executable, "scripts/it/s3_boto3.py", "keys", sys.argv[2]], capture_output=True, check=True).stdout.decode()
want = want.split("\0")[:-1]
if sorted(keys) != sorted(want):
    sys.exit("aws s3 ls --recursive: keys differ\n got  %r\n want %r" % (sorted(keys), sorted(want)))
print("ls --recursive: %d keys" % len(keys))
PY

echo "-- aws s3 cp of single files"
for key in "日本語/ファイル.txt" $'\u00e9' $'e\u0301' "a%20b?c=d&e#f+g" "%+#?&" "dir with spaces/file with spaces.txt" \
	"nested/a/b/mid.bin" "big.bin" "back\\slash" "link-rel" "empty-file"; do
	rm -f "$tmp/one"
	s3 cp --only-show-errors "s3://tricky-latest/$key" "$tmp/one"
	cmp "$tmp/one" "$tmp/src/$key" || fail "aws s3 cp of $key differs"
done

echo "-- aws s3 sync, diff -r"
# What sync can write: see s3_boto3.py expect. Links arrive as copies of
# their targets; empty directories do not arrive (the CLI skips "dir/"
# markers); the FIFO, links to directories, absolute, escaping and
# dangling links are not objects; mode000 is there only if we could read
# it (as root).
python3 scripts/it/s3_boto3.py expect "$tmp/src" "$tmp/expect"
s3 sync --only-show-errors s3://tricky-latest "$tmp/sync"
diff -r "$tmp/expect" "$tmp/sync" || fail "aws s3 sync differs from the source"
# A second sync finds nothing to do (sizes and times match).
again=$(s3 sync s3://tricky-latest "$tmp/sync")
[ -z "$again" ] || fail "second sync copied again: $again"

echo "-- refused write"
if s3 cp --only-show-errors "$tmp/expect/hard1" s3://tricky-latest/new-object 2>"$tmp/put.err"; then
	fail "an upload succeeded"
fi
grep -q AccessDenied "$tmp/put.err" || fail "upload refused without AccessDenied: $(cat "$tmp/put.err")"

echo "-- boto3"
python3 scripts/it/s3_boto3.py check "$endpoint" tricky-latest "$tmp/src"

grep -q '"status":200' "$tmp/serve.err" || grep -q 'status=200' "$tmp/serve.err" || fail "no request log lines from the server"
echo "s3.sh: all checks passed"
