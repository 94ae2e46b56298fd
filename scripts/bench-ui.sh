#!/usr/bin/env bash
# The secrets page at 100, 1,000 and 4,500 secrets (about 1 MiB, the API's limit): loading and
# each interaction, timed inside headless Chromium from the event to the next painted frame.
# Starts a release build of the reference server (dev mode, embedded store) serving www/, seeds
# a job per size and run, and prints the median (and min–max) of each interaction per size,
# then the page's memory (JS heap and WebAssembly) empty, loaded and after the interactions.
#
#   scripts/bench-ui.sh [runs] [sizes]                    (default: 5 100,1000,4500)
#   VDK_SECRETS_BENCH_BASELINE=REV scripts/bench-ui.sh …  also the page as committed at REV,
#       served by a second server, alternating run by run, with ratios against it
#
# Set VDK_SECRETS_BENCH_JSON=FILE to keep every sample as JSON.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
sizes="${2:-100,1000,4500}"
source scripts/lib.sh
[[ -d node_modules/playwright-core ]] || npm ci --no-audit --no-fund
www/prepare.sh
cargo build --release --quiet -p vdk-secrets-server
server_bin="$CARGO_TARGET_DIR/release/vdk-secrets-server"

VDK_SECRETS_LOG=warn spawn now "$server_bin" serve --dev --listen 127.0.0.1:0 \
    --data-dir "$work/data-now" --ui-dir www
targets=("now=$(server_url now)")

if [[ -n "${VDK_SECRETS_BENCH_BASELINE:-}" ]]; then
    # The page as it was at that revision, with today's package (the API is the same).
    mkdir -p "$work/baseline"
    git archive "$VDK_SECRETS_BENCH_BASELINE" www | tar -x -C "$work/baseline"
    cp -r www/vendor "$work/baseline/www/"
    VDK_SECRETS_LOG=warn spawn baseline "$server_bin" serve --dev --listen 127.0.0.1:0 \
        --data-dir "$work/data-baseline" --ui-dir "$work/baseline/www"
    targets+=("baseline=$(server_url baseline)")
fi
node www/bench/bench.mjs "$runs" "$sizes" "${targets[@]}"
