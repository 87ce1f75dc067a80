#!/usr/bin/env bash
# Ingest over FTP and S3 against plain downloads of the same data, in one
# run, against loopback servers (vsftpd, versitygw):
#   - 10,000 small files (1-8 KiB, 100 folders), and one 1 GiB file;
#   - plakar-gw ingest ftp://... vs lftp mirror (4 connections, like our
#     default) and wget -m (one connection);
#   - plakar-gw ingest s3://... vs aws s3 sync (10 requests at once).
# Each measurement starts cold for its tool (a fresh repository and cache
# for plakar-gw, an empty destination folder for the others) and is run
# RUNS times; the table shows the best time of each and the ratio of
# plakar-gw's to the faster download tool. Our ingest also chunks,
# compresses, encrypts and writes a repository; the downloads only write
# files: the last column, plakar-gw ingesting the same data from a local
# folder, is the engine's own floor, whatever the importer.
# An ingest returns once its packs are fsynced; a download tool returns
# with its files in the page cache. So each download is also timed up to
# the end of a `sync` after it ("+ sync"), when its bytes are on disk too,
# and the table gives the ratio to both.
#
#   bench/importers/run.sh [--work DIR] [--runs N] [--big-size MiB] [--small N]
#
# Not part of CI: installs lftp and wget with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$PWD

work=/tmp/plakar-gw-bench-importers
runs=2
big_mib=1024
small=10000
while [ $# -gt 0 ]; do
	case $1 in
	--work) work=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--big-size) big_mib=$2; shift 2 ;;
	--small) small=$2; shift 2 ;;
	*) echo "usage: $0 [--work DIR] [--runs N] [--big-size MiB] [--small N]" >&2; exit 2 ;;
	esac
done

for tool in lftp wget; do
	command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
done
command -v aws >/dev/null || { echo "needs the aws CLI" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"
ftp_pid=""
cleanup() {
	if [ -n "$ftp_pid" ]; then kill_tree "$ftp_pid"; fi
	bash "$repo_root/scripts/s3server.sh" stop "$work/s3" || true
}
kill_tree() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
	kill -KILL "$1" 2>/dev/null || true
}
trap cleanup EXIT

echo "-- data: $small small files, one $big_mib MiB file"
go build -o "$work/plakar-gw" ./cmd/plakar-gw
mkdir -p "$work/data/small" "$work/data/big"
python3 - "$work/data/small" "$small" <<'EOF'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(1)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 100))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 8192)))
EOF
head -c $((big_mib << 20)) /dev/urandom >"$work/data/big/big.bin"
chmod -R a+rX "$work/data"

echo "-- servers"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/vsftpd.empty"
cat >"$work/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$port
background=NO
seccomp_sandbox=NO
secure_chroot_dir=$work/vsftpd.empty
anonymous_enable=YES
anon_root=$work/data
local_enable=NO
write_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=41000
pasv_max_port=44000
max_clients=200
max_per_ip=200
xferlog_enable=NO
EOF
/usr/sbin/vsftpd "$work/vsftpd.conf" >"$work/vsftpd.log" 2>&1 &
ftp_pid=$!
disown "$ftp_pid"
sleep 0.5
ftp="ftp://anonymous:bench@127.0.0.1:$port"
eval "$(bash scripts/s3server.sh start "$work/s3")"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$work/aws-config AWS_SHARED_CREDENTIALS_FILE=$work/aws-credentials
aws --endpoint-url "$S3_ENDPOINT" s3 mb s3://bench >/dev/null
echo "   uploading to versitygw with aws s3 sync"
aws --endpoint-url "$S3_ENDPOINT" s3 sync --only-show-errors "$work/data" s3://bench
export PLAKAR_GW_PASSPHRASE=bench

# measure NAME CMD...: best wall time of RUNS runs, each after reset_NAME.
declare -A best bestsync
measure() {
	local name=$1 i t0 t1 t2 dt ds
	shift
	for i in $(seq "$runs"); do
		rm -rf "$work/out" "$work/repo" "$work/cache"
		mkdir -p "$work/out"
		if [[ $name == ours-* ]]; then
			"$work/plakar-gw" --repo "$work/repo" --cache-dir "$work/cache" init >/dev/null
		fi
		sync
		t0=$(date +%s.%N)
		"$@" >"$work/$name.log" 2>&1 || { echo "$name failed:"; tail "$work/$name.log"; exit 1; }
		t1=$(date +%s.%N)
		sync
		t2=$(date +%s.%N)
		dt=$(echo "$t1 - $t0" | bc -l)
		ds=$(echo "$t2 - $t0" | bc -l)
		echo "   $name run $i: $(printf '%.2f' "$dt") s, $(printf '%.2f' "$ds") s with sync"
		if [ -z "${best[$name]:-}" ] || (($(echo "$dt < ${best[$name]}" | bc -l))); then
			best[$name]=$dt
		fi
		if [ -z "${bestsync[$name]:-}" ] || (($(echo "$ds < ${bestsync[$name]}" | bc -l))); then
			bestsync[$name]=$ds
		fi
	done
}
ours() { "$work/plakar-gw" --repo "$work/repo" --cache-dir "$work/cache" ingest "$@"; }
lftp_mirror() { lftp -e "set net:max-retries 1; mirror --parallel=4 $1 $work/out; quit" "$ftp/"; }
wget_m() { wget -q -m -nH -P "$work/out" "$ftp$1/"; }
s3_sync() { aws --endpoint-url "$S3_ENDPOINT" s3 sync --only-show-errors "s3://bench$1" "$work/out"; }

for set in small big; do
	echo "-- $set"
	measure "ours-local-$set" ours "$work/data/$set"
	measure "ours-ftp-$set" ours "$ftp/$set"
	measure "lftp-$set" lftp_mirror "/$set"
	measure "wget-$set" wget_m "/$set"
	measure "ours-s3-$set" ours "s3://bench/$set" -o endpoint="$S3_ENDPOINT" -o path_style=true
	measure "awssync-$set" s3_sync "/$set"
done

f() { printf '%.2f' "$1"; }
r() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
min() { if (($(echo "$1 < $2" | bc -l))); then echo "$1"; else echo "$2"; fi; }
echo
echo "| data | protocol | plakar-gw ingest (s) | download tool (s) | ratio | download tool + sync (s) | ratio | limit | same data from a local folder (s) |"
echo "|---|---|---|---|---|---|---|---|---|"
for set in small big; do
	label=$([ $set = small ] && echo "$small small files" || echo "1 file of $big_mib MiB")
	limit=$([ $set = small ] && echo 1.2 || echo 1.5)
	ftp_ref=$(min "${best[lftp-$set]}" "${best[wget-$set]}")
	ftp_sync=$(min "${bestsync[lftp-$set]}" "${bestsync[wget-$set]}")
	echo "| $label | FTP | $(f "${best[ours-ftp-$set]}") | lftp mirror $(f "${best[lftp-$set]}"), wget -m $(f "${best[wget-$set]}") | $(r "${best[ours-ftp-$set]}" "$ftp_ref") | lftp $(f "${bestsync[lftp-$set]}"), wget $(f "${bestsync[wget-$set]}") | $(r "${best[ours-ftp-$set]}" "$ftp_sync") | $limit | $(f "${best[ours-local-$set]}") |"
	echo "| $label | S3 | $(f "${best[ours-s3-$set]}") | aws s3 sync $(f "${best[awssync-$set]}") | $(r "${best[ours-s3-$set]}" "${best[awssync-$set]}") | $(f "${bestsync[awssync-$set]}") | $(r "${best[ours-s3-$set]}" "${bestsync[awssync-$set]}") | $limit | $(f "${best[ours-local-$set]}") |"
done
echo
echo "(best of $runs runs each; ratio = plakar-gw / the faster download tool; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
