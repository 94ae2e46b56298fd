#!/usr/bin/env bash
# Fuzzes each target on the nightly toolchain, at the lowest CPU priority: first it runs the
# target over its regression inputs (fuzz/regressions/<target>/, kept in the repository), then
# fuzzes it for the given number of seconds, starting from those inputs and from the corpus
# earlier runs grew (fuzz/corpus/<target>/, not committed).
#
#   scripts/fuzz.sh [seconds]     each target for 60 seconds, or as long as given (600: a long session)
#
# A failing input stops the script; libFuzzer saves it in fuzz/artifacts/<target>/. Worth
# keeping as a regression input once fixed. Prints how many inputs each target ran.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
summary=()
for target in $(cargo +nightly fuzz list); do
    mkdir -p "corpus/$target"
    if [[ -d "regressions/$target" ]]; then
        echo "==> $target: the regression inputs"
        nice -n 19 cargo +nightly fuzz run "$target" "regressions/$target" -- -runs=0
    fi
    echo "==> $target for ${seconds}s"
    seeds=("corpus/$target")
    [[ -d "regressions/$target" ]] && seeds+=("regressions/$target")
    nice -n 19 cargo +nightly fuzz run "$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -max_len=65536 2>&1 | tee "$log"
    summary+=("$target: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log" | tail -1)")
done
printf '%s\n' "==> clean" "${summary[@]}"
