#!/usr/bin/env bash
# The FTP and S3 importers against real servers on 127.0.0.1:
#   - vsftpd (anonymous login with a password, chrooted to the tricky tree)
#     and versitygw (scripts/s3server.sh; built once, cached) holding the
#     same tree uploaded with the aws CLI;
#   - the Go tests of importers/ftp and importers/s3 that need those servers
#     (conformance suite, faults: deleted and unreadable files, 500 twice
#     then success, a cut body, a persistent failure) must run, not skip;
#   - plakar-gw ingest ftp://... and s3://..., restore, diff -r against what
#     each protocol can represent; FTPS with a CA file, insecure_skip_verify,
#     and an unknown CA refused;
#   - vsftpd stopped in the middle of an ingest: a clear failure or a
#     partial snapshot, never a complete one.
# Needs vsftpd (scripts/deps.sh), the aws CLI, python3, curl, openssl.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo_root=$PWD
start=$SECONDS

tmp=$(mktemp -d)
chmod 755 "$tmp" # vsftpd's session user must reach the served trees
ftp_pids=()
# kill_tree PID: PID and its descendants. vsftpd's per-session processes
# start sessions of their own, so its process group is not enough.
kill_tree() {
	local child
	for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$child"; done
	kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
	local p
	for p in "${ftp_pids[@]}"; do kill_tree "$p"; done
	bash "$repo_root/scripts/s3server.sh" stop "$tmp/s3" || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "importers.sh: FAIL: $*" >&2
	exit 1
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_ftp NAME ROOT [EXTRA_CONF...]: vsftpd, anonymous only, chrooted to
# ROOT, passive ports on 127.0.0.1. Sets ftp_port and NAME_pid.
start_ftp() {
	local name=$1 root=$2 conf pid
	shift 2
	ftp_port=$(free_port)
	local pasv=$(( (ftp_port % 20000) + 30000 ))
	mkdir -p "$tmp/$name.empty"
	conf=$tmp/$name.conf
	cat >"$conf" <<-EOF
		listen=YES
		listen_ipv6=NO
		listen_address=127.0.0.1
		listen_port=$ftp_port
		background=NO
		seccomp_sandbox=NO
		secure_chroot_dir=$tmp/$name.empty
		anonymous_enable=YES
		anon_root=$root
		local_enable=NO
		write_enable=NO
		force_dot_files=YES
		pasv_enable=YES
		pasv_address=127.0.0.1
		pasv_min_port=$pasv
		pasv_max_port=$((pasv + 200))
		max_clients=100
		max_per_ip=100
		xferlog_enable=NO
		hide_ids=YES
	EOF
	printf '%s\n' "$@" >>"$conf"
	/usr/sbin/vsftpd "$conf" >"$tmp/$name.log" 2>&1 &
	pid=$!
	disown "$pid" # killed on purpose below: no "Killed" notice
	ftp_pids+=("$pid")
	eval "${name}_pid=$pid"
	for _ in $(seq 100); do
		# Listening is enough: a TLS-only server refuses curl's plain login.
		(exec 3<>"/dev/tcp/127.0.0.1/$ftp_port") 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$tmp/$name.log" >&2
	fail "vsftpd $name did not start"
}

echo "-- building plakar-gw, the tricky tree, versitygw"
go build -o "$tmp/plakar-gw" ./cmd/plakar-gw
go run ./engine/enginetest/trickytree "$tmp/src" $((8 << 20)) 300 >/dev/null
chmod 755 "$tmp/src"
build_start=$SECONDS
bash scripts/s3server.sh build >/dev/null
echo "   versitygw ready in $((SECONDS - build_start)) s"

echo "-- starting vsftpd and versitygw"
start_ftp ftp "$tmp/src"
src_port=$ftp_port
ftp_url="ftp://anonymous:n0t-a-secret@127.0.0.1:$src_port"
mkdir -p "$tmp/ftptests"
chmod 755 "$tmp/ftptests"
start_ftp ftptests "$tmp/ftptests"
ftptests_url="ftp://anonymous:n0t-a-secret@127.0.0.1:$ftp_port"
eval "$(bash scripts/s3server.sh start "$tmp/s3")"
export AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=$tmp/aws-config AWS_SHARED_CREDENTIALS_FILE=$tmp/aws-credentials
awss3() { aws --endpoint-url "$S3_ENDPOINT" s3 "$@"; }
echo "   ftp: 127.0.0.1:$src_port  s3: $S3_ENDPOINT"

echo "-- go tests against the real servers (none may skip)"
PLAKAR_GW_TEST_FTP=$ftptests_url PLAKAR_GW_TEST_FTP_DIR=$tmp/ftptests \
	PLAKAR_GW_TEST_S3_ENDPOINT=$S3_ENDPOINT PLAKAR_GW_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY \
	PLAKAR_GW_TEST_S3_SECRET_KEY=$S3_SECRET_KEY \
	go test -count=1 -v -run 'TestReal' ./importers/ftp/ ./importers/s3/ >"$tmp/gotest.log" 2>&1 ||
	{ tail -n 60 "$tmp/gotest.log" >&2; fail "go tests of the importers"; }
if grep -q -- '--- SKIP' "$tmp/gotest.log"; then
	grep -B2 -A2 -- '--- SKIP' "$tmp/gotest.log" >&2
	fail "importer tests skipped although the servers are up"
fi
grep -c -- '^--- PASS: TestReal' "$tmp/gotest.log" | sed 's/^/   real-server tests passed: /'

export PLAKAR_GW_PASSPHRASE=importers-it PLAKAR_GW_REPO=$tmp/repo PLAKAR_GW_CACHE_DIR=$tmp/cache
gw="$tmp/plakar-gw"
"$gw" init >/dev/null

# snapshot_of JOB: the id of the newest snapshot of JOB, and whether it is
# complete, as "ID COMPLETE".
snapshot_of() {
	"$gw" snapshots --json | python3 -c '
import json, sys
snaps = [s for s in json.load(sys.stdin) if s.get("job") == sys.argv[1]]
if snaps:
    s = max(snaps, key=lambda s: s["time"])
    print(s["id"], str(s.get("complete", False)).lower())
' "$1"
}

echo "-- FTP: ingest the tricky tree, restore, compare"
rc=0
"$gw" ingest --job ftp "$ftp_url/" >"$tmp/ftp.out" 2>"$tmp/ftp.err" || rc=$?
cat "$tmp/ftp.out"
# Exit 3: the paths vsftpd's session user may not read are per-path errors.
[ "$rc" = 3 ] || { cat "$tmp/ftp.err" >&2; fail "ftp ingest exited $rc, want 3 (partial: unreadable paths)"; }
grep -q n0t-a-secret "$tmp/ftp.out" "$tmp/ftp.err" && fail "the FTP password was printed"
grep -rq n0t-a-secret "$tmp/repo" "$tmp/cache" && fail "the FTP password is stored in the repository or the cache"
"$gw" snapshots | grep -q "ftp://anonymous@127.0.0.1:$src_port/" || fail "origin is not the URL without its password"
"$gw" errors ftp-latest >"$tmp/ftp.errors" || true
for p in /mode000 /empty-dir-2; do
	grep -q "^$p: " "$tmp/ftp.errors" || { cat "$tmp/ftp.errors" >&2; fail "no per-path error for $p"; }
done
"$gw" restore ftp-latest --to "$tmp/ftp-restored" >/dev/null || true
# What FTP can represent: vsftpd's anonymous user reads only what others
# may read (mode000, the 0700 empty-dir-2 are errors above); no FIFO; a
# listing line cannot hold a newline (vsftpd lists "new", which is then
# not found: a per-path error, nothing restored).
cp -a "$tmp/src" "$tmp/ftp-expected"
rm -rf "$tmp/ftp-expected/mode000" "$tmp/ftp-expected/empty-dir-2" "$tmp/ftp-expected/fifo" \
	"$tmp/ftp-expected/new"$'\n'"line"
mkdir "$tmp/ftp-expected/empty-dir-2" # recorded with its error, without contents
diff -r --no-dereference "$tmp/ftp-expected" "$tmp/ftp-restored" >"$tmp/ftp.diff" 2>&1 ||
	{ head -n 40 "$tmp/ftp.diff" >&2; fail "FTP restore differs from the source"; }
sed 's/^/   per-path error: /' "$tmp/ftp.errors"

echo "-- S3: upload the tree with the aws CLI, ingest, restore, compare"
awss3 mb s3://tricky >/dev/null
# sync skips FIFOs and empty folders; --no-follow-symlinks skips links.
awss3 sync --no-follow-symlinks --only-show-errors "$tmp/src" s3://tricky/some/prefix >"$tmp/sync.log" 2>&1 || true
awss3 cp --only-show-errors - s3://tricky/outside <<<"not under the prefix"
aws --endpoint-url "$S3_ENDPOINT" s3api put-object --bucket tricky --key some/prefix/made-by-cli/ >/dev/null
# What S3 holds is what the aws CLI itself downloads.
awss3 cp --recursive --only-show-errors s3://tricky/some/prefix "$tmp/s3-expected" >/dev/null
[ -f "$tmp/s3-expected/big.bin" ] && [ -f "$tmp/s3-expected/nested/a/b/c/d/deep.txt" ] || fail "aws sync did not upload the tree"
rc=0
"$gw" ingest --job s3 s3://tricky/some/prefix -o endpoint="$S3_ENDPOINT" -o path_style=true >"$tmp/s3.out" 2>&1 || rc=$?
cat "$tmp/s3.out"
[ "$rc" = 0 ] || fail "s3 ingest exited $rc"
grep -rq "$S3_SECRET_KEY" "$tmp/repo" && fail "the S3 secret is stored in the repository"
"$gw" restore s3-latest --to "$tmp/s3-restored" >/dev/null
[ -d "$tmp/s3-restored/made-by-cli" ] || fail "the key made-by-cli/ is not an empty directory"
rmdir "$tmp/s3-restored/made-by-cli"
[ -e "$tmp/s3-restored/outside" ] && fail "a key outside the prefix was imported"
diff -r "$tmp/s3-expected" "$tmp/s3-restored" >"$tmp/s3.diff" 2>&1 ||
	{ head -n 40 "$tmp/s3.diff" >&2; fail "S3 restore differs from what the aws CLI downloads"; }
"$gw" ls s3-latest >/dev/null 2>&1 || fail "ls of the S3 snapshot"
echo "   $(find "$tmp/s3-restored" -type f | wc -l) objects restored identical"

echo "-- FTPS (explicit TLS, vsftpd requires it and TLS session reuse on data connections)"
mkdir -p "$tmp/tls/root/d"
head -c 300000 /dev/urandom >"$tmp/tls/root/d/f.bin"
chmod -R a+rX "$tmp/tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/tls/key.pem" -out "$tmp/tls/cert.pem" -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
start_ftp tls "$tmp/tls/root" ssl_enable=YES allow_anon_ssl=YES force_anon_logins_ssl=YES force_anon_data_ssl=YES \
	require_ssl_reuse=YES rsa_cert_file="$tmp/tls/cert.pem" rsa_private_key_file="$tmp/tls/key.pem"
"$gw" ingest --job ftps "ftp://127.0.0.1:$ftp_port/" >/dev/null 2>"$tmp/tls.err" && fail "plain FTP accepted by a TLS-only server?"
"$gw" ingest --job ftps "ftps://127.0.0.1:$ftp_port/" >/dev/null 2>"$tmp/tls.err" && fail "FTPS with an unknown CA succeeded"
grep -q "certificate" "$tmp/tls.err" || { cat "$tmp/tls.err" >&2; fail "unknown CA: no certificate error"; }
"$gw" ingest --job ftps "ftps://127.0.0.1:$ftp_port/" -o ca_file="$tmp/tls/cert.pem" >/dev/null || fail "FTPS with ca_file"
"$gw" ingest --job ftps "ftp://127.0.0.1:$ftp_port/" -o tls=true -o insecure_skip_verify=true >/dev/null || fail "FTPS with insecure_skip_verify"
"$gw" restore ftps-latest --to "$tmp/tls/restored" >/dev/null
cmp "$tmp/tls/root/d/f.bin" "$tmp/tls/restored/d/f.bin" || fail "FTPS restore differs"
echo "   ca_file and insecure_skip_verify work, an unknown CA is refused"

echo "-- FTP server stopped mid-ingest"
mkdir -p "$tmp/stop/many"
head -c $((64 << 20)) /dev/urandom >"$tmp/stop/big.bin"
for i in $(seq 200); do echo "$i" >"$tmp/stop/many/f$i"; done
chmod -R a+rX "$tmp/stop"
# 16 MB/s per session: the big file takes 4 s, time enough to stop the
# server in the middle of it.
start_ftp stop "$tmp/stop" anon_max_rate=16000000
rc=0
"$gw" ingest --job stopped "ftp://127.0.0.1:$ftp_port/" -o retries=2 -o timeout=5s >"$tmp/stop.out" 2>&1 &
ingest_pid=$!
sleep 1.5
kill_tree "$stop_pid"
wait "$ingest_pid" || rc=$?
cat "$tmp/stop.out"
[ "$rc" != 0 ] || fail "ingest with the server stopped mid-way exited 0"
read -r id complete <<<"$(snapshot_of stopped)" || true
if [ -n "${id:-}" ]; then
	[ "$complete" = false ] || fail "snapshot $id claims to be complete although the server stopped"
	"$gw" errors "$id" | grep -q '^/big.bin: ' || fail "no per-path error for the file cut by the stop"
	echo "   exit $rc, partial snapshot ${id:0:12} with the cut file as a per-path error"
else
	echo "   exit $rc, no snapshot written"
fi

echo "importers.sh: OK in $((SECONDS - start)) s"
