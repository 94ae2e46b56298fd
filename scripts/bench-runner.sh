#!/usr/bin/env bash
# The runner's benchmarks, each in one run against the same reference server:
#  (a) warm get-all-secrets through the vdk:secrets component vs the native Rust client, with
#      the component's read cache (as jobs use it) and without (every read over wasi:http),
#      in alternating rounds: the median of the per-round ratios, and their spread;
#  (b) a whole cold start of vdk-job-runner (compiled components cached, --prefetch) that
#      reads the job's secrets, vs a fresh Python process reading them with VDK's generated
#      client (vdk-control-service-api);
# and the component's size.
#   scripts/bench-runner.sh [starts]     (default 20 starts of each)
# VDK_BENCH_RUNS=N repeats (a) N times (default 1); VDK_BENCH_ROUNDS and VDK_BENCH_RUNTIME
# reach runner/examples/bench_get_all.rs, which describes them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
starts="${1:-20}"
venv_install "vdk-control-service-api==1.0.13"
scripts/build-component.sh --bench-uncached "$work/uncached.wasm" | tail -2
# One cargo invocation, so that the binaries and the example share one feature resolution and
# a second run of this script rebuilds nothing.
cargo build --release --quiet -p vdk-secrets-server -p vdk-job-runner --bins --example bench_get_all
bin="$CARGO_TARGET_DIR/release"

spawn server "$bin/vdk-secrets-server" serve --dev --listen 127.0.0.1:0 --data-dir "$work/data"
url="$(server_url server)"
curl -sf -X PUT -d "$(python3 -c 'import json; print(json.dumps({f"secret_{i:02}": "v" * 64 for i in range(20)} | {"db_password": "bench-password", "db_config": {"host": "h", "port": 1, "user": "u"}}))')" \
    "$url/data-jobs/for-team/bench/jobs/job/deployments/TODO/secrets"

for run in $(seq "${VDK_BENCH_RUNS:-1}"); do
    echo "(a) run $run: $("$bin/examples/bench_get_all" components/vdk-secrets.wasm "$url" bench job 300 "$work/uncached.wasm")"
done

runner=("$bin/vdk-job-runner" --secrets-component components/vdk-secrets.wasm --control-service-url "$url"
        --team bench --job job --prefetch --cache-dir "$work/cache" components/example-job.wasm
        -- --read-only)
# Fills the compiled-component cache, and shows why if the runner cannot run at all.
"${runner[@]}" >/dev/null 2>"$work/first-run.log" || { cat "$work/first-run.log" >&2; exit 1; }
"$VENV/bin/python" runner/bench/read_secrets.py "$url" bench job >/dev/null
time_ms() {  # command... ; prints the median wall time of $starts runs in ms
    local times=()
    for _ in $(seq "$starts"); do
        local start end
        start=$(date +%s%N)
        "$@" >/dev/null 2>&1 || { echo "failed, so not timed: $*" >&2; return 1; }
        end=$(date +%s%N)
        times+=($(( (end - start) / 1000 )))
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}
r="$(time_ms "${runner[@]}")"
p="$(time_ms "$VENV/bin/python" runner/bench/read_secrets.py "$url" bench job)"
echo "(b) cold start that reads the job's secrets, median of $starts: vdk-job-runner $r ms," \
     "Python + vdk-control-service-api $p ms, $(python3 -c "print(f'{$p/$r:.1f}')")x faster"
