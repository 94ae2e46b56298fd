#!/usr/bin/env bash
# Builds the vdk:secrets component (feature `component`) and the example data job for
# wasm32-wasip2 (profile component-release) into components/, checks the component's
# interface with wasm-tools, and prints sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
rustup target add wasm32-wasip2 >/dev/null
cargo build --lib --profile component-release --target wasm32-wasip2 --features component
cargo build -p example-job --profile component-release --target wasm32-wasip2
mkdir -p components
cp "$CARGO_TARGET_DIR/wasm32-wasip2/component-release/vdk_secrets.wasm" components/vdk-secrets.wasm
cp "$CARGO_TARGET_DIR/wasm32-wasip2/component-release/example_job.wasm" components/example-job.wasm
if command -v wasm-tools >/dev/null; then
    wasm-tools validate components/vdk-secrets.wasm
    # The component exports exactly the documented interfaces.
    wit="$(wasm-tools component wit components/vdk-secrets.wasm)"
    for expected in "export vdk:secrets/store@0.1.0" "export vdk:secrets/validate@0.1.0" \
                    "import vdk:secrets/configuration@0.1.0" "import wasi:http/outgoing-handler"; do
        grep -q "$expected" <<<"$wit" || { echo "missing from the component: $expected"; exit 1; }
    done
fi
for f in components/vdk-secrets.wasm components/example-job.wasm; do
    echo "$f: $(stat -c %s "$f") bytes raw, $(gzip -9 -c "$f" | wc -c) bytes gzipped"
done
