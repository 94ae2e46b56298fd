#!/usr/bin/env bash
# The npm package's client on a set of 4,500 secrets (895,583 bytes, about 1 MiB): reading it
# (getAllSecretsVersioned) and saving it back (setAllSecrets with its etag), in Node and in
# headless Chromium, against a release build of the reference server (dev mode, embedded
# store). Prints medians of each time, of the save's part before the request leaves the
# client, and of the module's WebAssembly memory after loading, reading and saving.
#
#   scripts/bench-client.sh [rounds] [LABEL=PACKAGE_DIR...]    (default: 5 now=pkg)
#
# Give two packages (say before=/tmp/pkg-before now=pkg, each built by scripts/build-npm.sh)
# to compare them in the same run: each round runs each package once per environment, in turn.
# VDK_SECRETS_SERVER_BIN=PATH uses that server binary instead of building one.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
shift || true
packages=("$@")
[[ ${#packages[@]} -gt 0 ]] || packages=("now=pkg")
source scripts/lib.sh
[[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund
server_bin="${VDK_SECRETS_SERVER_BIN:-}"
if [[ -z "$server_bin" ]]; then
    cargo build --release --quiet -p vdk-secrets-server
    server_bin="$CARGO_TARGET_DIR/release/vdk-secrets-server"
fi

# What the server serves: an empty page, the round's module, and each package by its label.
mkdir -p "$work/ui"
printf '<!doctype html><meta charset="utf-8"><title>client benchmark</title>\n' > "$work/ui/index.html"
cp npm/bench/client-run.mjs "$work/ui/"
args=()
for entry in "${packages[@]}"; do
    label="${entry%%=*}" dir="${entry#*=}"
    mkdir -p "$work/ui/$label"
    cp -r "$dir"/vdk_secrets.js "$dir"/vdk_secrets_bg.wasm "$work/ui/$label/"
    [[ -d "$dir/snippets" ]] && cp -r "$dir/snippets" "$work/ui/$label/"
    args+=("$label=$work/ui/$label")
done
VDK_SECRETS_LOG=warn spawn server "$server_bin" serve --dev --listen 127.0.0.1:0 \
    --data-dir "$work/data" --ui-dir "$work/ui"
node npm/bench/client.mjs "$(server_url server)" "$rounds" "${args[@]}"
