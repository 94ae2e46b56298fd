#!/usr/bin/env bash
# Builds the Python data job (app.py) as a component of the world vdk:secrets/data-job with
# componentize-py, which bundles a CPython interpreter compiled to WebAssembly.
#
#   examples/python-job/build.sh [VENV] [OUT]
#
# VENV holds componentize-py 0.25 (default: ~/.cache/vdk-secrets/python-venv, as made by
# scripts/test-python.sh); OUT defaults to components/python-job.wasm.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${1:-$HOME/.cache/vdk-secrets/python-venv}"
out="${2:-components/python-job.wasm}"
componentize_py="$venv/bin/componentize-py"
if [[ ! -x "$componentize_py" ]]; then
    echo "componentize-py is not installed in $venv: pip install componentize-py==0.25.1" >&2
    exit 1
fi
mkdir -p "$(dirname "$out")"
"$componentize_py" -d wit -w data-job componentize -p examples/python-job app -o "$out"
echo "$out: $(stat -c %s "$out") bytes"
