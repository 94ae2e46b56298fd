#!/usr/bin/env bash
# Tests of the Python side: the vdk-core plugin vdk-secrets-wasm (python/) and a Python data
# job built as a component with componentize-py (examples/python-job/).
#
#  1. a venv of pinned tools ($PY_VENV, default ~/.cache/vdk-secrets/python-venv): vdk-core,
#     wasmtime, componentize-py, pytest, black, ruff; black and ruff check python/ and
#     examples/python-job/;
#  2. the vdk:secrets component (scripts/build-component.sh), bundled into the plugin's wheel,
#     which is built and installed (not the source tree);
#  3. the Python job component (componentize-py, world data-job);
#  4. pytest python/tests: `vdk run` of a sample job against the reference server with a tokens
#     file on a real OpenBao (both on free ports, stopped by PID);
#  5. runner/tests/python_job.rs: the Python job component in vdk-job-runner.
#
#   scripts/test-python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PY_VENV="${PY_VENV:-$HOME/.cache/vdk-secrets/python-venv}"
# vdk-core is published as a source package whose setup.py imports pkg_resources, which newer
# setuptools no longer has; it is built without isolation against this setuptools.
PY_PINS=(setuptools==65.5.0 wheel==0.48.0 wasmtime==50.0.1 vdk-core==0.3.1466514302
         componentize-py==0.25.1 pytest==9.2.0 black==26.10.1 ruff==0.17.6)

echo "==> Python tools ($PY_VENV)"
[[ -x "$PY_VENV/bin/python" ]] || python3 -m venv "$PY_VENV"
py="$PY_VENV/bin/python"
for spec in "${PY_PINS[@]}"; do
    "$py" -c "import importlib.metadata as m, sys; sys.exit(m.version('${spec%%==*}') != '${spec#*==}')" \
        2>/dev/null || "$py" -m pip install --quiet --no-build-isolation "$spec"
done

echo "==> format and lint (black, ruff)"
"$PY_VENV/bin/black" --check --quiet --config python/pyproject.toml python examples/python-job
"$PY_VENV/bin/ruff" check --quiet --config python/pyproject.toml python examples/python-job

echo "==> the vdk:secrets component, bundled into the plugin's wheel"
scripts/build-component.sh | tail -2
cp components/vdk-secrets.wasm python/src/vdk_secrets_wasm/vdk-secrets.wasm
rm -rf python/build
"$py" -m pip wheel --quiet --no-build-isolation --no-deps ./python -w "$work/dist"
wheel="$(ls "$work"/dist/vdk_secrets_wasm-*.whl)"
[[ "$("$py" -m zipfile -l "$wheel")" == *vdk_secrets_wasm/vdk-secrets.wasm* ]] ||
    { echo "the wheel $wheel does not bundle the component" >&2; exit 1; }
"$py" -m pip install --quiet --no-deps --force-reinstall "$wheel"
rm -rf python/build

echo "==> the Python job as a component (componentize-py)"
examples/python-job/build.sh "$PY_VENV" components/python-job.wasm

echo "==> the reference server on OpenBao, with a tokens file"
cargo build --quiet -p vdk-secrets-server -p vdk-job-runner
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"
root_token="py-root-$(date +%s%N)"
start_openbao bao "$root_token"
token="py-token-$(date +%s%N)"
"$server_bin" hash-token --name python-tests team-py <<<"$token" > "$work/tokens"
VAULT_TOKEN="$root_token" spawn server "$server_bin" serve --listen 127.0.0.1:0 \
    --backend vault --vault-addr "$bao_url" --tokens-file "$work/tokens"
url="$(server_url server)"

echo "==> pytest python/tests (server $url)"
status=0
VDK_SECRETS_TEST_URL="$url" VDK_SECRETS_TEST_TOKEN="$token" \
    "$py" -m pytest -p no:cacheprovider -q -rxs python/tests 2>&1 | tee "$work/pytest.log" ||
    status=$?
# A suite that runs nothing is broken, not green.
grep -qE '[1-9][0-9]* passed' "$work/pytest.log" || { echo "no Python tests passed" >&2; status=1; }

echo "==> runner/tests/python_job.rs (the Python job in vdk-job-runner)"
BAO_BIN="$(openbao_bin)" VDK_TEST_COMPONENTS="$PWD/components" \
    cargo test --quiet -p vdk-job-runner --test python_job -- --ignored 2>&1 | tee "$work/cargo.log" || status=$?
grep -qE '^test result: ok\. [1-9][0-9]* passed' "$work/cargo.log" ||
    { echo "no runner tests of the Python job passed" >&2; status=1; }

if [[ $status -ne 0 ]]; then
    echo "--- reference server log (last 40 lines) ---"
    tail -n 40 "$work/server.log"
fi
exit "$status"
