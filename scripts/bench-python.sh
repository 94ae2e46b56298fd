#!/usr/bin/env bash
# The Python side's benchmarks, each a ratio within one run against the same reference server:
#  (a) a job start's added time to its first read of the secrets (a fresh Python process,
#      less a bare interpreter start): the vdk-secrets-wasm component (compiled component
#      cached) vs VDK's generated Control Service client (vdk-control-service-api);
#  (b) a warm `get_secret` in one process: the component vs the generated client (which reads
#      the whole set, as upstream's get_secret does);
#  (c) the same small job run twice: the componentize-py job in vdk-job-runner (compiled
#      components cached) vs `vdk run` with vdk-secrets-wasm.
# Run scripts/test-python.sh once first (it makes the venv).
#   scripts/bench-python.sh [starts]     (default 20 starts of each)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
starts="${1:-20}"
PY_VENV="${PY_VENV:-$HOME/.cache/vdk-secrets/python-venv}"
py="$PY_VENV/bin/python"
[[ -x "$PY_VENV/bin/vdk" ]] || { echo "no vdk in $PY_VENV: run scripts/test-python.sh first" >&2; exit 1; }
"$py" -c 'import taurus_datajob_api' 2>/dev/null ||
    "$py" -m pip install --quiet vdk-control-service-api==1.0.13
scripts/build-component.sh | tail -1
# The plugin's wheel, with the component just built.
if ! cmp -s components/vdk-secrets.wasm "$("$py" -c 'from vdk_secrets_wasm.component import BUNDLED_COMPONENT as c; print(c)')"; then
    cp components/vdk-secrets.wasm python/src/vdk_secrets_wasm/vdk-secrets.wasm
    "$py" -m pip wheel --quiet --no-build-isolation --no-deps ./python -w "$work/dist" 2>/dev/null
    "$py" -m pip install --quiet --no-deps --force-reinstall "$work"/dist/vdk_secrets_wasm-*.whl
    rm -rf python/build
fi
[[ components/python-job.wasm -nt examples/python-job/app.py ]] ||
    examples/python-job/build.sh "$PY_VENV" components/python-job.wasm
cargo build --release --quiet -p vdk-secrets-server -p vdk-job-runner
bin="$CARGO_TARGET_DIR/release"

spawn server "$bin/vdk-secrets-server" serve --dev --listen 127.0.0.1:0 --data-dir "$work/data"
url="$(server_url server)"
seed="$(python3 -c 'import json; print(json.dumps({f"secret_{i:02}": "v" * 64 for i in range(20)} | {"db_password": "bench-password", "db_config": {"host": "h", "port": 1, "user": "u"}}))')"
curl -sf -X PUT -d "$seed" "$url/data-jobs/for-team/bench/jobs/bench-job/deployments/TODO/secrets" >/dev/null
export VDK_SECRETS_WASM_CACHE_DIR="$work/plugin-cache" VDK_CONTROL_SERVICE_REST_API_URL="$url"

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
ratio() { python3 -c "print(f'{$1/$2:.1f}')"; }

read_once=("$py" python/bench/read_once.py)
"${read_once[@]}" component "$url" bench bench-job >/dev/null   # fills the compiled-component cache
none="$(time_ms "${read_once[@]}" none "$url" bench bench-job)"
ours="$(time_ms "${read_once[@]}" component "$url" bench bench-job)"
theirs="$(time_ms "${read_once[@]}" upstream "$url" bench bench-job)"
ours_added="$(python3 -c "print(f'{$ours-$none:.1f}')")"
theirs_added="$(python3 -c "print(f'{$theirs-$none:.1f}')")"
echo "(a) added start time to the first read, median of $starts (bare interpreter $none ms):" \
     "vdk-secrets-wasm $ours_added ms, vdk-control-service-api $theirs_added ms," \
     "$(ratio "$theirs_added" "$ours_added")x less"

read -r ours_us theirs_us < <("$py" python/bench/get_secret_calls.py "$url" bench bench-job 300)
echo "(b) warm get_secret, median of 300: vdk-secrets-wasm $ours_us us," \
     "vdk-control-service-api $theirs_us us, $(ratio "$theirs_us" "$ours_us")x faster"

# The same job both ways: read db_password and db_config, list the set, record last_run.
job="$work/bench-job"
mkdir -p "$job"
printf '[owner]\nteam = bench\n' > "$job/config.ini"
cat > "$job/10_step.py" <<'PY'
import json


def run(job_input):
    password = job_input.get_secret("db_password")
    print(f"password: {password}")
    print(f"db_config: {json.dumps(job_input.get_secret('db_config'))}")
    secrets = job_input.get_all_secrets()
    print(f"secrets: {len(secrets)}")
    job_input.set_all_secrets({**secrets, "last_run": "ok"})
PY
runner=("$bin/vdk-job-runner" --secrets-component components/vdk-secrets.wasm --control-service-url "$url"
        --team bench --job bench-job --cache-dir "$work/runner-cache" components/python-job.wasm)
"${runner[@]}" >/dev/null 2>"$work/first-run.log" || { cat "$work/first-run.log" >&2; exit 1; }
"$PY_VENV/bin/vdk" run "$job" >/dev/null 2>"$work/vdk-run.log" || { cat "$work/vdk-run.log" >&2; exit 1; }
r="$(time_ms "${runner[@]}")"
v="$(time_ms "$PY_VENV/bin/vdk" run "$job")"
echo "(c) the same job, median of $starts: componentize-py job in vdk-job-runner (cached) $r ms," \
     "vdk run with vdk-secrets-wasm $v ms, $(ratio "$v" "$r")x faster"
