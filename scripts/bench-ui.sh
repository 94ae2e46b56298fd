#!/usr/bin/env bash
# The secrets page at 100, 1,000 and 4,500 secrets (about 1 MiB, the API's limit): loading and
# each interaction, timed inside headless Chromium from the event to the next painted frame.
# Starts a release build of the reference server (dev mode, embedded store) serving www/, seeds
# a job per size and run, and prints the median (and min–max) of each interaction per size.
#
#   scripts/bench-ui.sh [runs] [sizes...]     (default: 5 runs of 100 1000 4500)
#
# Set VDK_SECRETS_BENCH_JSON=FILE to keep every sample as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
[[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund
www/prepare.sh
cargo build --release --quiet -p vdk-secrets-server
VDK_SECRETS_LOG=warn spawn server "$CARGO_TARGET_DIR/release/vdk-secrets-server" serve --dev \
    --listen 127.0.0.1:0 --data-dir "$work/data" --ui-dir www
url="$(server_url server)"
node www/bench/bench.mjs "$url" "${@:-5}"
