#!/usr/bin/env bash
# The repository on S3 object storage, against a real S3 server (versitygw,
# started by scripts/s3server.sh on 127.0.0.1): the Store conformance suite,
# the engine on the S3 store (with gc racing an ingest of another process at
# each lock point), and two serve processes sharing one bucket.
set -euo pipefail
cd "$(dirname "$0")/../.."
state=$(mktemp -d /tmp/plakar-gw-s3store.XXXXXX)
cleanup() {
	scripts/s3server.sh stop "$state" || true
	rm -rf "$state"
}
trap cleanup EXIT
eval "$(scripts/s3server.sh start "$state")"
export PLAKAR_GW_TEST_S3_ENDPOINT=$S3_ENDPOINT PLAKAR_GW_TEST_S3_ACCESS_KEY=$S3_ACCESS_KEY \
	PLAKAR_GW_TEST_S3_SECRET_KEY=$S3_SECRET_KEY PLAKAR_GW_REQUIRE_S3=1
go test -count=1 -race ./engine/storage/s3/
go test -count=1 -short -run 'S3' -v ./cmd/plakar-gw/ | grep -E '^(=== RUN|--- |ok|FAIL|PASS)' | grep -v '=== RUN'
