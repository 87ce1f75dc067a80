#!/usr/bin/env bash
# Installs the system packages the tests use, on a fresh Debian machine
# (CI runs as root with only the package registries reachable). Each
# integration script under scripts/it/ lists what it needs here.
set -euo pipefail
pkgs=(
	litmus   # WebDAV conformance (scripts/it/dav.sh)
	rclone   # WebDAV client copy (scripts/it/dav.sh)
	fuse3    # fusermount3 for the FUSE mount tests (mount/)
	vsftpd   # a real FTP server for the FTP importer tests (scripts/it/importers.sh)
	chromium # headless browser for the web UI end-to-end tests (webui/)
	openssl  # certificates for the FTPS tests (scripts/it/importers.sh)
	curl     # HTTP checks in scripts/it/*.sh and scripts/s3server.sh
	unzip    # the web UI's zip downloads (scripts/it/webui.sh)
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	sudo="sudo"
fi
echo "installing: ${missing[*]}"
# Servers (vsftpd) must not start on their public ports when installed: the
# tests start their own on 127.0.0.1. policy-rc.d tells Debian's maintainer
# scripts not to start services.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod +x "$policy"
	own_policy=1
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ -n "$own_policy" ]; then
	$sudo rm -f "$policy"
fi
