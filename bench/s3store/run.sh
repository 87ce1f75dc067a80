#!/usr/bin/env bash
# Benchmarks of the repository on S3 object storage against a real S3
# server on loopback (versitygw, scripts/s3server.sh), in one run:
#  1. ingest of a dataset into an S3-backed repository vs a folder one;
#  2. a cold gateway (empty cache, fresh process) serving a file of a big
#     S3-backed repository: time from start to the first byte;
#  3. GET of a 1 GiB file through plakar-gw serve from the S3-backed
#     repository vs `aws s3 cp` of the same 1 GiB as a plain object;
#  4. GET of a 256 MiB file three times: the third comes from the
#     gateway's disk chunk cache.
# Usage: bench/s3store/run.sh [--data-gib N]   (default 10: the repository
#        of step 2 holds N GiB; steps 1 and 3 use 2 GiB and 1 GiB)
set -euo pipefail
cd "$(dirname "$0")/../.."
data_gib=10
[ "${1:-}" = "--data-gib" ] && data_gib=$2
work=${WORK:-/tmp/plakar-gw-s3bench}
rm -rf "$work"
mkdir -p "$work"
bin=$work/plakar-gw
go build -o "$bin" ./cmd/plakar-gw
eval "$(scripts/s3server.sh start "$work/s3")"
trap 'kill $(jobs -p) 2>/dev/null || true; scripts/s3server.sh stop "$work/s3"' EXIT
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
s3() { aws --endpoint-url "$S3_ENDPOINT" s3 "$@"; }
export PLAKAR_GW_PASSPHRASE=bench PLAKAR_GW_REPO_S3_ENDPOINT=$S3_ENDPOINT PLAKAR_GW_REPO_S3_PATH_STYLE=true \
	PLAKAR_GW_REPO_S3_ACCESS_KEY_ID=$S3_ACCESS_KEY PLAKAR_GW_REPO_S3_SECRET_ACCESS_KEY=$S3_SECRET_KEY
s3 mb s3://repo >/dev/null
s3 mb s3://plain >/dev/null
secs() { python3 -c 'import time; print(time.time())'; }

# 1. Ingest, S3 vs folder, same data (2 GiB mixed, cold page cache for both).
go run ./bench/gendata -out "$work/mixed" -size 2GiB -seed 1 >/dev/null
drop() { sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
PLAKAR_GW_REPO=$work/local "$bin" init >/dev/null
PLAKAR_GW_REPO=s3://repo/gw "$bin" init >/dev/null
drop; t0=$(secs); PLAKAR_GW_REPO=$work/local "$bin" --cache-dir "$work/c1" ingest --job mixed "$work/mixed" >/dev/null; t1=$(secs)
drop; t2=$(secs); PLAKAR_GW_REPO=s3://repo/gw "$bin" --cache-dir "$work/c2" ingest --job mixed "$work/mixed" >/dev/null; t3=$(secs)
local_s=$(python3 -c "print(f'{$t1-$t0:.1f}')"); s3_s=$(python3 -c "print(f'{$t3-$t2:.1f}')")
rm -rf "$work/mixed"

# 3 (data first). A 1 GiB file, ingested, and the same bytes as a plain object.
head -c 1G /dev/urandom >"$work/big.bin"
mkdir -p "$work/one" && mv "$work/big.bin" "$work/one/big.bin"
PLAKAR_GW_REPO=s3://repo/gw "$bin" --cache-dir "$work/c2" ingest --job one "$work/one" >/dev/null
s3 cp "$work/one/big.bin" s3://plain/big.bin >/dev/null
# A 256 MiB file that clients read again and again (the disk chunk cache).
mkdir -p "$work/hot" && head -c 256M /dev/urandom >"$work/hot/hot.bin"
PLAKAR_GW_REPO=s3://repo/gw "$bin" --cache-dir "$work/c2" ingest --job hot "$work/hot" >/dev/null

# 2. Fill the repository up to data_gib GiB with more random data.
have=3
i=0
while [ "$have" -lt "$data_gib" ]; do
	mkdir -p "$work/fill" && head -c 1G /dev/urandom >"$work/fill/f$i.bin"
	PLAKAR_GW_REPO=s3://repo/gw "$bin" --cache-dir "$work/c2" ingest --job fill "$work/fill" >/dev/null
	rm -f "$work/fill/f$i.bin"
	have=$((have + 1)); i=$((i + 1))
done
repo_bytes=$(s3 ls --recursive --summarize s3://repo/gw | awk '/Total Size/ {print $3}')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
rm -rf "$work/cold-cache"
t0=$(secs)
PLAKAR_GW_REPO=s3://repo/gw "$bin" --cache-dir "$work/cold-cache" serve --anonymous --s3 "127.0.0.1:$port" >/dev/null 2>"$work/serve-cold.log" &
pid=$!
until curl -sf -r 0-0 -o /dev/null "http://127.0.0.1:$port/one-latest/big.bin"; do sleep 0.02; done
t1=$(secs)
ttfb=$(python3 -c "print(f'{$t1-$t0:.2f}')")

# 3. GET 1 GiB through the gateway (warm process, chunk cache cannot hold
# it) vs aws s3 cp of the plain object.
t0=$(secs); curl -sf -o /dev/null "http://127.0.0.1:$port/one-latest/big.bin"; t1=$(secs)
t2=$(secs); s3 cp s3://plain/big.bin - >/dev/null; t3=$(secs)
gw_s=$(python3 -c "print(f'{$t1-$t0:.1f}')"); aws_s=$(python3 -c "print(f'{$t3-$t2:.1f}')")

# 4. The same 256 MiB three times: from the bucket, from the bucket again
# (its chunks become hot and go to the gateway's disk cache), from disk.
hot=()
for _ in 1 2 3; do
	t0=$(secs); curl -sf -o /dev/null "http://127.0.0.1:$port/hot-latest/hot.bin"; t1=$(secs)
	hot+=("$(python3 -c "print(f'{$t1-$t0:.2f}')")")
done
kill $pid

cat <<EOF2
| S3-backed repository (versitygw on loopback) | plakar-gw | reference | ratio (target) |
|---|---:|---:|---:|
| ingest 2 GiB mixed: S3 store vs folder store, s | $s3_s | $local_s | $(python3 -c "print(f'{$local_s/$s3_s:.2f}')") throughput (≥ 0.7) |
| cold gateway, first byte of a file, repository of $((repo_bytes / 1024 / 1024 / 1024)) GiB, s | $ttfb | - | (≤ 1 s) |
| GET 1 GiB: through serve vs aws s3 cp of a plain object, s | $gw_s | $aws_s | $(python3 -c "print(f'{$aws_s/$gw_s:.2f}')") throughput (≥ 0.6) |
| GET 256 MiB three times: first, second (from the bucket), third (disk chunk cache), s | ${hot[0]} / ${hot[1]} / ${hot[2]} | - | $(python3 -c "print(f'{${hot[0]}/${hot[2]}:.1f}')")x faster from the cache |
EOF2
