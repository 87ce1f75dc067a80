# Sourced by the integration scripts that serve the tricky tree (dav.sh,
# webui.sh); not run on its own. The caller sets `name` (for messages) and
# exports PLAKAR_GW_ACCESS_KEY_ID / PLAKAR_GW_SECRET_ACCESS_KEY first.
# It gives: $tmp (removed at exit, with the server stopped), fail MSG, $gw
# (a freshly built plakar-gw), a repository holding the tricky tree ($tmp/src)
# as job "tricky", $unreadable (diff arguments excluding mode000 when the
# source cannot read it, i.e. not root), and serve_until LABEL ARGS...,
# which starts `plakar-gw serve ARGS...` and sets $pid and $url from the
# line LABEL: http://127.0.0.1:PORT/ it prints.
tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "$name: FAIL: $*" >&2
	[ -f "$tmp/serve.log" ] && tail -n 20 "$tmp/serve.log" | sed 's/^/  log: /' >&2
	exit 1
}

go build -o "$tmp/plakar-gw" ./cmd/plakar-gw
go run ./engine/enginetest/trickytree "$tmp/src" $((8 << 20)) 200 >/dev/null
export PLAKAR_GW_PASSPHRASE=$name-it PLAKAR_GW_REPO=$tmp/repo PLAKAR_GW_CACHE_DIR=$tmp/cache
gw="$tmp/plakar-gw"
"$gw" init >/dev/null
# Exit 3 is a partial ingest: mode000 is unreadable unless we are root.
rc=0
"$gw" ingest --job tricky "$tmp/src" >/dev/null || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 3 ] || fail "ingest exited $rc"
unreadable=()
[ -r "$tmp/src/mode000" ] || unreadable=(-x mode000)

serve_until() {
	local label=$1
	shift
	"$gw" serve "$@" >"$tmp/serve.log" 2>&1 &
	pid=$!
	url=""
	for _ in $(seq 100); do
		url=$(sed -n "s|^$label: *\(http://127\.0\.0\.1:[0-9]*\)/.*|\1|p" "$tmp/serve.log")
		[ -n "$url" ] && break
		kill -0 "$pid" 2>/dev/null || fail "serve exited early"
		sleep 0.1
	done
	[ -n "$url" ] || fail "serve did not print its URL"
	echo "-- serving $url"
}
