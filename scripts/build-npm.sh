#!/usr/bin/env bash
# Builds the npm package into pkg/: the core with feature `js` for wasm32-unknown-unknown,
# wasm-bindgen (pinned), then wasm-opt from npm's binaryen. Prints the .wasm size.
#   scripts/build-npm.sh          then: (cd pkg && npm pack)
#   VDK_NPM_STABLE=1 scripts/build-npm.sh    the same with stable Rust and its prebuilt std
#   scripts/build-npm.sh --size-rules-only FILE   also writes to FILE the module built without
#       its client (`--cfg vdk_size_rules_only`: the rules and the synchronous exports only)
#       and prints both sizes, to weigh what the client costs (docs/BENCHMARKS.md)
#   VDK_NPM_NAMES=1 scripts/build-npm.sh ...   keeps the functions' names in the module(s),
#       for `twiggy top` and `twiggy diff FILE pkg/vdk_secrets_bg.wasm`; not for shipping
# The shipped build uses a pinned nightly (installed here with rust-src) to rebuild the
# standard library with `-Cpanic=immediate-abort`: a panic (a bug; none is expected on any
# input) traps at once, without the panic machinery and its message formatting. That makes
# the module 7 KB smaller gzipped (docs/BENCHMARKS.md); the stable build is otherwise equal.
set -euo pipefail
rules_file=""
if [[ "${1:-}" == "--size-rules-only" ]]; then
    [[ -n "${2:-}" ]] || { echo "usage: $0 --size-rules-only FILE" >&2; exit 2; }
    rules_file="$(realpath -m -- "$2")"   # before the cd below: FILE is the caller's path
fi
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate's pinned version
NIGHTLY=nightly-2026-05-20     # the newest nightly this build was measured with

if [[ -n "${VDK_NPM_STABLE:-}" ]]; then
    rustup target add wasm32-unknown-unknown >/dev/null
    build=(cargo rustc)
else
    if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 ||
        ! rustup +"$NIGHTLY" component list --installed 2>/dev/null | grep -q '^rust-src'; then
        rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
    fi
    build=(env RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort"
        cargo +"$NIGHTLY" rustc -Zbuild-std=std,panic_abort)
fi
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
    # --locked fails against the registry mirror; the version pin is what matters.
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
[[ -x node_modules/.bin/wasm-opt ]] || npm ci --no-audit --no-fund

strip_names=(--remove-name-section)
keep_names=()
if [[ -n "${VDK_NPM_NAMES:-}" ]]; then
    strip_names=()
    keep_names=(-g)
fi
# The module, bound by wasm-bindgen into directory $1; more arguments go to rustc. Only the
# final crate gets them, so the standard library and dependencies stay cached.
npm_module() {
    local out="$1"; shift
    "${build[@]}" --lib --profile wasm-release --target wasm32-unknown-unknown --features js \
        -- "$@"
    rm -rf "$out" && mkdir -p "$out"
    wasm-bindgen --target web --out-dir "$out" --out-name vdk_secrets \
        "${strip_names[@]}" --remove-producers-section \
        "$CARGO_TARGET_DIR/wasm32-unknown-unknown/wasm-release/vdk_secrets.wasm"
}
# Debian's binaryen corrupts wasm-bindgen's output; npm's does not. No inlining: rustc has
# inlined what pays already, and binaryen's inlining made the module 5 KB larger gzipped
# (docs/BENCHMARKS.md).
shrink() {
    node_modules/.bin/wasm-opt -Oz --converge "${keep_names[@]}" \
        -fimfs=0 --one-caller-inline-max-function-size=0 --partial-inlining-ifs=0 \
        --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue \
        "$1" -o "$1"
}
sizes() {
    echo "$1: $(stat -c %s "$1") bytes raw, $(gzip -9 -c "$1" | wc -c) bytes gzipped (gzip -9)"
}

if [[ -n "$rules_file" ]]; then
    rules=$(mktemp -d)
    trap 'rm -rf "$rules"' EXIT
    # What only the client used is left unused: the warnings about it say nothing here.
    npm_module "$rules" --cfg vdk_size_rules_only -A dead_code -A unused_imports
    shrink "$rules/vdk_secrets_bg.wasm"
    cp "$rules/vdk_secrets_bg.wasm" "$rules_file"
fi

npm_module pkg
# Both builds write one file in the shared build directory: a build of the other kind running
# at the same time could leave its module here. The shipped one has the client.
if ! grep -q "^export class SecretsClient" pkg/vdk_secrets.d.ts; then
    echo "pkg/: the module has no SecretsClient; was another build running? Run this again." >&2
    exit 1
fi
# Strings cross into the module through wasm-bindgen's passStringToWasm0, which copies a
# string's ASCII prefix one character at a time in JS: a third of validating a 1 MiB set.
# Past 64 characters, TextEncoder.encodeInto writes the string straight into the module's
# memory instead, into a buffer of one byte per UTF-16 unit, grown (by 3 bytes per unit left)
# only when other characters do not fit, then shrunk to the bytes written. Checked: the build
# fails if the code is not there.
node -e '
const fs = require("fs");
const file = "pkg/vdk_secrets.js";
const from = "function passStringToWasm0(arg, malloc, realloc) {\n    if (realloc === undefined) {";
const to = `function passStringToWasm0(arg, malloc, realloc) {
    if (realloc !== undefined && arg.length > 64) {
        let len = arg.length;
        let ptr = malloc(len, 1) >>> 0;
        let ret = cachedTextEncoder.encodeInto(arg, getUint8ArrayMemory0().subarray(ptr, ptr + len));
        let offset = ret.written;
        if (ret.read < arg.length) {
            const rest = arg.slice(ret.read);
            ptr = realloc(ptr, len, len = offset + rest.length * 3, 1) >>> 0;
            ret = cachedTextEncoder.encodeInto(rest, getUint8ArrayMemory0().subarray(ptr + offset, ptr + len));
            offset += ret.written;
            ptr = realloc(ptr, len, offset, 1) >>> 0;
        }
        WASM_VECTOR_LEN = offset;
        return ptr;
    }
    if (realloc === undefined) {`;
const glue = fs.readFileSync(file, "utf8");
if (glue.split(from).length !== 2) throw new Error(`${file}: passStringToWasm0 is not as expected`);
for (const name of ["cachedTextEncoder", "getUint8ArrayMemory0", "WASM_VECTOR_LEN"]) {
    if (!new RegExp(`^(const|let|function) ${name}\\b`, "m").test(glue)) throw new Error(`${file}: ${name} is not there`);
}
fs.writeFileSync(file, glue.replace(from, to));
'
shrink pkg/vdk_secrets_bg.wasm
# The package's own files: package.json and whatever it lists that is not generated above.
cp npm/package.json pkg/
node -e 'for (const f of require("./npm/package.json").files) console.log(f)' |
    while read -r file; do
        if [[ -e "npm/$file" ]]; then
            mkdir -p "pkg/$(dirname "$file")" && cp -r "npm/$file" "pkg/$file"
        fi
    done

sizes pkg/vdk_secrets_bg.wasm
if [[ -n "$rules_file" ]]; then
    echo "without the client:"
    sizes "$rules_file"
fi
