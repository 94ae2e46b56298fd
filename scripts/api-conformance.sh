#!/usr/bin/env bash
# Runs schemathesis against the reference server's served OpenAPI document for a bounded time.
#   scripts/api-conformance.sh [seconds]     (default 60)
# Expects the server built (cargo build -p vdk-secrets-server) and schemathesis on PATH;
# scripts/test.sh provides both.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
target="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

token="conformance-$(date +%s%N)"
printf %s "$token" | "$target/debug/vdk-secrets-server" hash-token > "$work/tokens"
"$target/debug/vdk-secrets-server" serve --listen 127.0.0.1:0 --tokens-file "$work/tokens" \
    --data-dir "$work/data" > "$work/stdout" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/stdout" 2>/dev/null && break
    sleep 0.1
done
url="$(sed -n 's/.*listening on //p' "$work/stdout")"
[[ -n "$url" ]] || { echo "the server did not start:"; cat "$work/server.log"; exit 1; }

echo "schemathesis against $url/openapi.json for ${seconds}s"
schemathesis --config-file server/schemathesis.toml run "$url/openapi.json" \
    --checks all --header "Authorization: Bearer $token" \
    --max-time "$seconds" --workers 2 --no-color
