#!/usr/bin/env bash
# The web UI through the real binary and real tools: plakar-gw serve --ui
# over the tricky tree; curl logs in (bad password refused, cookie flags),
# downloads files (bytes, a range, a unicode Content-Disposition), and the
# whole snapshot as .zip (unzip) and .tar.gz (tar): diff -r against the
# source, and modes and nanosecond mtimes from the tar; CSRF and unknown
# snapshots are refused. The browser walk is webui/e2e_test.go.
# Needs curl, unzip, GNU tar and diffutils.
set -euo pipefail
cd "$(dirname "$0")/../.."

name=webui.sh
export PLAKAR_GW_ACCESS_KEY_ID=uiuser PLAKAR_GW_SECRET_ACCESS_KEY='s3cr3t p@ss&word'
# shellcheck source=../lib/tricky-serve.sh
. scripts/lib/tricky-serve.sh
excl=(-x fifo "${unreadable[@]}")

serve_until "Web UI" --ui 127.0.0.1:0

jar=$tmp/cookies
code() { curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" "$@"; }
token() { curl -s -b "$jar" -c "$jar" "$url$1" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1; }

echo "-- login"
[ "$(code "$url/")" = 303 ] || fail "/ without a session is not a redirect to the login"
tok=$(token /login)
[ -n "$tok" ] || fail "no CSRF token on the login page"
[ "$(code --data-urlencode "csrf=$tok" --data-urlencode user=uiuser --data-urlencode password=wrong "$url/login")" = 401 ] || fail "wrong password not refused"
[ "$(code --data-urlencode user=uiuser --data-urlencode "password=$PLAKAR_GW_SECRET_ACCESS_KEY" "$url/login")" = 403 ] || fail "login without the CSRF token not refused"
hdrs=$(curl -s -D - -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf=$tok" --data-urlencode user=uiuser \
	--data-urlencode "password=$PLAKAR_GW_SECRET_ACCESS_KEY" "$url/login" | tr -d '\r')
grep -qi '^set-cookie: plakar_gw_session=.*HttpOnly.*SameSite=Strict' <<<"$hdrs" || fail "session cookie: $hdrs"
[ "$(code "$url/")" = 200 ] || fail "/ after login"
snap=$(curl -s -b "$jar" "$url/" | sed -n 's|.*class="snap-link" href="/s/\([0-9a-f]*\)/".*|\1|p' | head -n 1)
[ -n "$snap" ] || fail "no snapshot listed"

echo "-- files"
curl -sf -b "$jar" -o "$tmp/big.bin" "$url/raw/$snap/big.bin" || fail "download big.bin"
cmp "$tmp/big.bin" "$tmp/src/big.bin" || fail "big.bin differs"
curl -sf -b "$jar" -r 1000000-1999999 -o "$tmp/range" "$url/raw/$snap/big.bin" || fail "range"
cmp "$tmp/range" <(tail -c +1000001 "$tmp/src/big.bin" | head -c 1000000) || fail "range bytes differ"
cd_hdr=$(curl -sf -b "$jar" -D - -o "$tmp/u.txt" "$url/raw/$snap/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt" | tr -d '\r' | grep -i '^content-disposition:')
grep -q "filename\*=UTF-8''%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB.txt" <<<"$cd_hdr" || fail "Content-Disposition: $cd_hdr"
cmp "$tmp/u.txt" "$tmp/src/日本語/ファイル.txt" || fail "unicode file differs"
curl -sf -b "$jar" -o "$tmp/odd" "$url/raw/$snap/a%2520b%3Fc=d&e%23f+g" || fail "download a%20b?c=d&e#f+g"
cmp "$tmp/odd" "$tmp/src/a%20b?c=d&e#f+g" || fail "a%20b?c=d&e#f+g differs"

echo "-- zip of the snapshot"
curl -sf -b "$jar" -o "$tmp/all.zip" "$url/archive/$snap/" || fail "zip download"
mkdir "$tmp/unzip"
# -^ keeps the newline in "new\nline" (unzip drops control characters by default)
(cd "$tmp/unzip" && unzip -q -^ "$tmp/all.zip") || fail "unzip"
diff -r --no-dereference "${excl[@]}" "$tmp/src" "$tmp/unzip/snapshot-$snap" || fail "the unzipped snapshot differs from the source"

echo "-- tar.gz of a directory, with modes and mtimes"
mkdir "$tmp/untar"
curl -sf -b "$jar" "$url/archive/$snap/?format=tar.gz" | tar -xzf - -C "$tmp/untar" || fail "tar.gz"
diff -r --no-dereference "${excl[@]}" "$tmp/src" "$tmp/untar/snapshot-$snap" || fail "the untarred snapshot differs from the source"
meta() { (cd "$1" && find . ! -type l ! -type p ! -name mode000 -printf '%p %m %T@\n' | sort); }
diff <(meta "$tmp/src") <(meta "$tmp/untar/snapshot-$snap") || fail "modes or mtimes differ after tar"

echo "-- refusals"
[ "$(code --data-urlencode p=big.bin "$url/select/$snap/")" = 403 ] || fail "selection POST without CSRF token not refused"
[ "$(code "$url/s/0000000000000000/")" = 404 ] || fail "unknown snapshot not 404"
[ "$(code "$url/raw/$snap/nested")" = 400 ] || fail "raw of a directory not 400"
tok=$(token /)
[ "$(code --data-urlencode "csrf=$tok" "$url/logout")" = 303 ] || fail "logout"
[ "$(code "$url/raw/$snap/big.bin")" = 303 ] || fail "download after logout not sent to the login"
echo "webui.sh: OK"
