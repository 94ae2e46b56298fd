#!/usr/bin/env bash
# Runs schemathesis against the reference server's served OpenAPI document for a bounded time.
#   scripts/api-conformance.sh [seconds]     (default 60)
# Expects the server built (cargo build -p vdk-secrets-server) and schemathesis on PATH;
# scripts/test.sh provides both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
seconds="${1:-60}"
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"

token="conformance-$(date +%s%N)"
printf %s "$token" | "$server_bin" hash-token > "$work/tokens"
spawn server "$server_bin" serve --listen 127.0.0.1:0 --tokens-file "$work/tokens" \
    --data-dir "$work/data"
url="$(server_url server)"

echo "schemathesis against $url/openapi.json for ${seconds}s"
schemathesis --config-file server/schemathesis.toml run "$url/openapi.json" \
    --checks all --header "Authorization: Bearer $token" \
    --max-time "$seconds" --workers 1 --no-color
