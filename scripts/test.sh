#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first.
#
#   scripts/test.sh            everything
#   SKIP_INSTALL=1 scripts/... reuse what an earlier run installed
#
# Build output goes to $CARGO_TARGET_DIR (default: ~/.cache/vdk-secrets/target) so that
# fresh clones on the same machine reuse compiled dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: rustup targets"
rustup target add wasm32-unknown-unknown wasm32-wasip2

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "unit and integration tests"
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee "${TMPDIR:-/tmp}/vdk-secrets-test.log"
# A test binary that runs nothing is a broken suite, not a green one.
if ! grep -qE '^test result: ok\. [1-9][0-9]* passed' "${TMPDIR:-/tmp}/vdk-secrets-test.log"; then
    echo "no tests ran" >&2
    exit 1
fi

step "the core builds for the browser and for WASI"
cargo build --lib --target wasm32-unknown-unknown
cargo build --lib --target wasm32-wasip2

step "benchmarks compile"
cargo bench --no-run --quiet

echo
echo "All tests passed."
