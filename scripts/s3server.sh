#!/usr/bin/env bash
# A real S3 server on 127.0.0.1 for tests and benchmarks: versitygw over a
# local folder (posix backend). The binary is built once from the Go module
# proxy into a cache folder and reused by later runs (the first build takes
# minutes; a cached one is checked with --version and reused).
#
#   scripts/s3server.sh build              build (or find) versitygw, print its path
#   scripts/s3server.sh start STATEDIR     start a server keeping its data and pid
#                                          in STATEDIR; prints the shell lines
#                                          S3_ENDPOINT=http://127.0.0.1:PORT
#                                          S3_ACCESS_KEY=... S3_SECRET_KEY=...
#                                          S3_PID=... (eval them)
#   scripts/s3server.sh stop STATEDIR      stop the server started in STATEDIR
#
# Environment: VERSITYGW_VERSION (default v1.8.0), PLAKAR_GW_CI_CACHE (default
# ${XDG_CACHE_HOME:-~/.cache}/plakar-gw-ci), S3_ACCESS_KEY / S3_SECRET_KEY
# (default test credentials). Buckets are folders of STATEDIR/data.
set -euo pipefail

version=${VERSITYGW_VERSION:-v1.8.0}
cache=${PLAKAR_GW_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/plakar-gw-ci}
bin=$cache/bin/versitygw-$version

die() {
	echo "s3server.sh: $*" >&2
	exit 1
}

build() {
	if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
		echo "$bin"
		return
	fi
	mkdir -p "$cache/bin"
	local start=$SECONDS tmpbin
	tmpbin=$(mktemp -d "$cache/bin/build.XXXXXX")
	echo "s3server.sh: building versitygw $version into $cache/bin (once; takes minutes)" >&2
	# GOBIN of its own: a half-built binary never takes the cached name.
	GOBIN=$tmpbin GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$version" >&2 ||
		{ rm -rf "$tmpbin"; die "go install versitygw failed"; }
	mv "$tmpbin/versitygw" "$bin"
	rm -rf "$tmpbin"
	echo "s3server.sh: built versitygw in $((SECONDS - start)) s" >&2
	echo "$bin"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start() {
	local dir=${1:?usage: s3server.sh start STATEDIR}
	local gw port pid key=${S3_ACCESS_KEY:-plakartest} secret=${S3_SECRET_KEY:-plakartestsecret}
	gw=$(build)
	mkdir -p "$dir/data"
	dir=$(cd "$dir" && pwd)
	for _ in 1 2 3; do
		port=$(free_port)
		ROOT_ACCESS_KEY=$key ROOT_SECRET_KEY=$secret \
			"$gw" --port "127.0.0.1:$port" posix "$dir/data" >"$dir/versitygw.log" 2>&1 &
		pid=$!
		for _ in $(seq 100); do
			if ! kill -0 "$pid" 2>/dev/null; then
				break
			fi
			# Any HTTP answer (403 without credentials) means it listens.
			if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
				echo "$pid" >"$dir/pid"
				printf 'S3_ENDPOINT=http://127.0.0.1:%s\nS3_ACCESS_KEY=%q\nS3_SECRET_KEY=%q\nS3_PID=%s\n' \
					"$port" "$key" "$secret" "$pid"
				return
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	tail -n 20 "$dir/versitygw.log" >&2 || true
	die "versitygw did not start"
}

stop() {
	local dir=${1:?usage: s3server.sh stop STATEDIR} pid
	[ -f "$dir/pid" ] || return 0
	pid=$(cat "$dir/pid")
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$dir/pid"
}

case ${1:-} in
build) build ;;
start) start "${2:-}" ;;
stop) stop "${2:-}" ;;
*) die "usage: s3server.sh build | start STATEDIR | stop STATEDIR" ;;
esac
