#!/usr/bin/env bash
# The cost of listing a job's history next to one read of its set, in one run: a job with 10
# versions of a 1 MiB set (4,500 secrets), on the Vault backend (OpenBao) and on the embedded
# store. Requests alternate, across the servers too, and the median of each is reported with
# the ratio, because this machine is noisy.
#
#   scripts/bench-history.sh [requests]    (default 20 of each)
#   VDK_BENCH_BEFORE=BIN scripts/bench-history.sh [requests]
#       also times the embedded store of another build of vdk-secrets-server (BIN), in the
#       same rounds, as "embedded-before"
#
# Needs OpenBao (installed into the project's venv if missing) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
requests="${1:-20}"
source scripts/lib.sh

cargo build --release --quiet -p vdk-secrets-server
server_bin="$CARGO_TARGET_DIR/release/vdk-secrets-server"
start_openbao bao bench-root

VAULT_TOKEN=bench-root VDK_SECRETS_LOG=warn spawn vault "$server_bin" serve --dev \
    --listen 127.0.0.1:0 --backend vault --vault-addr "$bao_url"
VDK_SECRETS_LOG=warn spawn embedded "$server_bin" serve --dev \
    --listen 127.0.0.1:0 --data-dir "$work/data"
backends=(vault embedded)
if [[ -n "${VDK_BENCH_BEFORE:-}" ]]; then
    VDK_SECRETS_LOG=warn spawn embedded-before "$VDK_BENCH_BEFORE" serve --dev \
        --listen 127.0.0.1:0 --data-dir "$work/data-before"
    backends+=(embedded-before)
fi

# Ten versions of a set of 4,500 secrets of about 200 bytes each, each version changing a few.
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
for v in range(10):
    secrets = {f"secret_{i:04}": f"v{v if i % 500 == 0 else 0}-" + "x" * 200 for i in range(4500)}
    with open(f"{work}/set{v}.json", "w") as f:
        json.dump(secrets, f, separators=(",", ":"))
PY

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
seconds() { curl -sf -o /dev/null -w '%{time_total}\n' "$1"; }

declare -A urls
for backend in "${backends[@]}"; do
    base="$(server_url "$backend")"
    urls[$backend]="$base/data-jobs/for-team/bench/jobs/job/deployments/TODO/secrets"
    url="${urls[$backend]}"
    for v in $(seq 0 9); do
        curl -sf -X PUT --data-binary "@$work/set$v.json" "$url"
    done
    seconds "$url" > /dev/null; seconds "$url/versions" > /dev/null
    : > "$work/$backend.read"; : > "$work/$backend.list"
done
# Each round starts with the next server, so that none is always first.
for round in $(seq "$requests"); do
    for i in "${!backends[@]}"; do
        backend="${backends[(i + round) % ${#backends[@]}]}"
        url="${urls[$backend]}"
        seconds "$url" >> "$work/$backend.read"
        seconds "$url/versions" >> "$work/$backend.list"
    done
done
size="$(stat -c %s "$work/set9.json")"
for backend in "${backends[@]}"; do
    url="${urls[$backend]}"
    count="$(curl -sf "$url/versions" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["versions"]))')"
    read_ms="$(median < "$work/$backend.read" | awk '{printf "%.1f", $1 * 1000}')"
    list_ms="$(median < "$work/$backend.list" | awk '{printf "%.1f", $1 * 1000}')"
    ratio="$(awk -v l="$list_ms" -v r="$read_ms" 'BEGIN {printf "%.1f", l / r}')"
    echo "$backend: $count versions of a $size-byte set; one read ${read_ms} ms, the history ${list_ms} ms (ratio $ratio; median of $requests each)"
done
