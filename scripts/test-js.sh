#!/usr/bin/env bash
# Tests of the npm package: wasm-bindgen-test in Node and in headless Chromium, then
# `node --test` against the packed tarball. Starts the reference servers they need and stops
# them by PID. Called by scripts/test.sh; expects pkg/ built by scripts/build-npm.sh (or
# VDK_SECRETS_PKG_DIR naming another directory it built).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"
cargo build --quiet -p vdk-secrets-server

runner_port="$(free_port)"
origin="http://127.0.0.1:$runner_port"
token="js-token-$(date +%s%N)"
printf %s "$token" | "$server_bin" hash-token js > "$work/tokens"
# A decoy: an HTTP server that answers every GET with an HTML login page where the API
# should be, as a misconfigured proxy would (with CORS, so that browsers read the answer).
decoy_port="$(free_port)"
spawn decoy python3 -c '
import http.server, sys
class Decoy(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"<html>login</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_OPTIONS(self):
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, PUT, POST")
        self.send_header("Access-Control-Allow-Headers", "authorization, content-type, if-match")
        self.end_headers()
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Decoy).serve_forever()
' "$decoy_port"
decoy_url="http://127.0.0.1:$decoy_port"

spawn main "$server_bin" serve --listen 127.0.0.1:0 --tokens-file "$work/tokens" \
    --data-dir "$work/data" --max-set-bytes 2048 --cors-origin "$origin"
main_url="$(server_url main)"
spawn none "$server_bin" serve --listen 127.0.0.1:0 --dev --backend none --cors-origin "$origin"
none_url="$(server_url none)"
# The API's own limits (1 MiB sets), without tokens: for sets at the limit.
spawn large "$server_bin" serve --listen 127.0.0.1:0 --dev --data-dir "$work/large" --cors-origin "$origin"
large_url="$(server_url large)"

for _ in $(seq 50); do curl -fs "$decoy_url/" > /dev/null && break; sleep 0.1; done
export VDK_SECRETS_TEST_URL="$main_url" VDK_SECRETS_TEST_NONE_URL="$none_url" VDK_SECRETS_TEST_TOKEN="$token"
export VDK_SECRETS_TEST_DECOY_URL="$decoy_url" VDK_SECRETS_TEST_LARGE_URL="$large_url"
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
