#!/usr/bin/env bash
# Tests of the npm package: wasm-bindgen-test in Node and in headless Chromium, then
# `node --test` against the packed tarball. Starts the reference servers they need and stops
# them by PID. Called by scripts/test.sh; expects pkg/ built by scripts/build-npm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"
cargo build --quiet -p vdk-secrets-server

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_server() {  # name, flags... ; sets $url
    local name="$1"; shift
    "$server_bin" serve --listen 127.0.0.1:0 "$@" > "$work/$name.out" 2> "$work/$name.log" &
    pids+=($!)
    for _ in $(seq 100); do grep -q "listening on" "$work/$name.out" 2>/dev/null && break; sleep 0.1; done
    url="$(sed -n 's/.*listening on //p' "$work/$name.out")"
    [[ -n "$url" ]] || { cat "$work/$name.log"; exit 1; }
}

runner_port="$(free_port)"
origin="http://127.0.0.1:$runner_port"
token="js-token-$(date +%s%N)"
printf %s "$token" | "$server_bin" hash-token js > "$work/tokens"
# A UI directory whose /decoy/... path serves an HTML page where the API should be.
decoy="$work/ui/decoy/data-jobs/for-team/js/jobs/j/deployments/TODO"
mkdir -p "$decoy"
echo "<html>login</html>" > "$work/ui/index.html"
cp "$work/ui/index.html" "$decoy/secrets"

start_server main --tokens-file "$work/tokens" --data-dir "$work/data" --max-set-bytes 2048 \
    --cors-origin "$origin" --ui-dir "$work/ui"
main_url="$url"
start_server none --dev --backend none --cors-origin "$origin"
none_url="$url"

export VDK_SECRETS_TEST_URL="$main_url" VDK_SECRETS_TEST_NONE_URL="$none_url" VDK_SECRETS_TEST_TOKEN="$token"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner

echo "==> wasm-bindgen-test in Node $(node --version)"
cargo test --target wasm32-unknown-unknown --features js --test js_node

echo "==> wasm-bindgen-test in headless Chromium ($(chromium --version))"
cat > "$work/webdriver.json" <<JSON
{ "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--user-data-dir=$work/chromium-profile" ] } }
JSON
WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$runner_port" WASM_BINDGEN_TEST_WEBDRIVER_JSON="$work/webdriver.json" \
    cargo test --target wasm32-unknown-unknown --features js --test js_browser

echo "==> node --test: the packed tarball, installed and imported as a user would"
node --test npm/test/
