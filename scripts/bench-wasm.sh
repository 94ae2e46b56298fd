#!/usr/bin/env bash
# Validating the same 1 MiB secrets document natively and in WebAssembly under Node, in one
# run, alternating three times; prints the medians and the ratio. Builds pkg/ first. Natively
# it times both reading the set then checking it and the check wasm's validateSecretsDocument
# runs (validate::document_problems, which keeps no value when it can): the second ratio is
# like for like.
#   scripts/bench-wasm.sh [iterations-per-measurement]     (default 200)
# ROUNDS=n sets the number of alternating rounds (default 3): more on a busy machine.
# With VDK_BENCH_BEFORE=DIR (a package directory built by build-npm.sh from another commit),
# each round times that module too, for a before/after comparison in the same run.
# VDK_BENCH_BEFORE=COMMIT builds that commit's package first (its files from `git archive`,
# in a temporary directory, with its own build directory under $CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
n="${1:-200}"
scripts/build-npm.sh >/dev/null
cargo build --release --quiet --example validate_timing
doc="$(mktemp -d)/one-mib.json"
# The package as built now, copied: pkg/ may be rebuilt while the rounds run.
now="$(dirname "$doc")/pkg"
cp -r pkg "$now"
before="${VDK_BENCH_BEFORE:-}"
if [[ -n "$before" && ! -d "$before" ]]; then
    commit="$(git rev-parse --verify "$before^{commit}")"
    src="$(dirname "$doc")/before-src"
    mkdir -p "$src" && git archive "$commit" | tar -x -C "$src"
    ln -s "$PWD/node_modules" "$src/node_modules"
    # Its own build directory: cargo judges freshness by file times, and the two trees'
    # build units share names.
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR/bench-before" "$src/scripts/build-npm.sh" >/dev/null
    before="$src/pkg"
fi
native=(); native_same=(); wasm=(); object=(); wasm_before=(); object_before=()
for round in $(seq "${ROUNDS:-3}"); do
    read -r nat same < <("$CARGO_TARGET_DIR/release/examples/validate_timing" "$doc" "$n")
    native+=("$nat"); native_same+=("$same")
    read -r w o < <(node npm/bench/validate.mjs "$doc" "$n" "$now")
    wasm+=("$w"); object+=("$o")
    echo "round $round: native ${native[-1]} ms (the same check as wasm's: ${native_same[-1]} ms)," \
         "wasm ${wasm[-1]} ms (JS object path ${object[-1]} ms)"
    if [[ -n "$before" ]]; then
        read -r w o < <(node npm/bench/validate.mjs "$doc" "$n" "$before")
        wasm_before+=("$w"); object_before+=("$o")
        echo "         before: wasm $w ms (JS object path $o ms)"
    fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
nm="$(median "${native[@]}")"; wm="$(median "${wasm[@]}")"; om="$(median "${object[@]}")"
echo "document of $(stat -c %s "$doc") bytes; median native $nm ms, wasm under Node $(node --version) $wm ms," \
     "ratio $(ratio "$wm" "$nm"); JS object path $om ms, ratio $(ratio "$om" "$nm")"
# Each round's own ratios, native and wasm timed moments apart: steadier on a busy machine.
per_round() { local -n times="$1" base="${2:-native}"; for i in "${!base[@]}"; do ratio "${times[$i]}" "${base[$i]}"; done; }
echo "median of the rounds' ratios: document $(median $(per_round wasm)), JS object path $(median $(per_round object))," \
     "document against the same check natively $(median $(per_round wasm native_same))" \
     "${before:+; before: document $(median $(per_round wasm_before)), JS object path $(median $(per_round object_before))}"
if [[ -n "$before" ]]; then
    bw="$(median "${wasm_before[@]}")"; bo="$(median "${object_before[@]}")"
    echo "before ($before): wasm $bw ms, ratio $(ratio "$bw" "$nm"); JS object path $bo ms, ratio $(ratio "$bo" "$nm")"
fi
rm -rf "$(dirname "$doc")"
