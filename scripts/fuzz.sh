#!/usr/bin/env bash
# Runs each fuzz target for the given number of seconds (default 60) on the nightly toolchain.
#   scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
for target in $(cargo +nightly fuzz list); do
    echo "==> $target for ${seconds}s"
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -max_len=65536
done
