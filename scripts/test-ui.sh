#!/usr/bin/env bash
# Browser tests of the Operations UI (www/): headless Chromium driven by playwright-core,
# against the reference server on the Vault backend, with a real OpenBao dev server behind it.
# Both servers get free ports and are stopped by PID on exit. Screenshots of every tested
# state go to www/tests/artifacts/ (or $VDK_SECRETS_UI_ARTIFACTS).
#
#   scripts/test-ui.sh                                   every test file in www/tests/
#   scripts/test-ui.sh www/tests/large.test.mjs …        only these files
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

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

echo "==> OpenBao dev server"
root_token="ui-root-$(date +%s%N)"
start_openbao bao "$root_token"

echo "==> reference server (Vault backend, --sample-job, UI from www/)"
# The Vault token goes through the environment of this one process only.
VAULT_TOKEN="$root_token" spawn server "$server_bin" serve --dev --listen 127.0.0.1:0 \
    --backend vault --vault-addr "$bao_url" --ui-dir www --sample-job
url="$(server_url server)"

artifacts="${VDK_SECRETS_UI_ARTIFACTS:-$PWD/www/tests/artifacts}"
rm -rf "$artifacts" && mkdir -p "$artifacts"
export VDK_SECRETS_UI_URL="$url" VDK_SECRETS_SERVER_BIN="$server_bin" VDK_SECRETS_UI_ARTIFACTS="$artifacts"
# For the one test that stores what the server refuses, as another writer of the Vault would.
export VDK_SECRETS_TEST_BAO_URL="$bao_url" VDK_SECRETS_TEST_BAO_TOKEN="$root_token"

echo "==> node --test ${*:-www/tests/} (Chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), server $url)"
status=0
node --test "${@:-www/tests/}" || status=$?
echo "screenshots: $artifacts"
if [[ $status -ne 0 ]]; then
    echo "--- reference server log (last 40 lines) ---"
    tail -n 40 "$work/server.log"
fi
exit "$status"
