#!/usr/bin/env bash
# Writing a set of 4,500 secrets (895,583 bytes, the page benchmark's set) to a release build
# of the reference server on its embedded store: the server's CPU time per PUT (user + system,
# from /proc) and the median wall time per PUT seen by curl, over N PUTs to one job after 3
# warm-up PUTs. With several server binaries (say one built from an earlier commit), each is
# measured in turn, ROUNDS times, alternating, each on a fresh data directory.
#
#   scripts/bench-put.sh [puts] [SERVER_BINARY...]     (default: 40, this tree's release build)
# ROUNDS=n sets the number of alternating rounds (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
puts="${1:-40}"
shift || true
source scripts/lib.sh
if [[ $# -eq 0 ]]; then
    cargo build --release --quiet -p vdk-secrets-server
    set -- "$CARGO_TARGET_DIR/release/vdk-secrets-server"
fi
node --input-type=module -e '
import { writeFileSync } from "node:fs";
import { largeSetText } from "./npm/bench/client-run.mjs";
writeFileSync(process.argv[1], largeSetText(4500));' "$work/set.json"
ticks="$(getconf CLK_TCK)"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() {
    local bin="$1" round="$2" pid url before after wall
    VDK_SECRETS_LOG=warn spawn "s$round" "$bin" serve --dev --listen 127.0.0.1:0 \
        --data-dir "$work/data-$round-$RANDOM" --ui-dir www
    pid=$spawned
    url="$(server_url "s$round")/data-jobs/for-team/bench/jobs/put/deployments/TODO/secrets"
    put() { curl -sS -o /dev/null -w '%{http_code} %{time_total}\n' -X PUT --data-binary "@$work/set.json" "$url"; }
    for _ in 1 2 3; do put > /dev/null; done
    before="$(cpu_ticks "$pid")"
    wall="$(for _ in $(seq "$puts"); do put; done |
        awk '$1 != 204 { print "a PUT answered " $1 > "/dev/stderr"; exit 1 } { print $2 * 1000 }' |
        sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] }')"
    after="$(cpu_ticks "$pid")"
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    awk -v b="$bin" -v c="$((after - before))" -v t="$ticks" -v n="$puts" -v w="$wall" \
        'BEGIN { printf "%s: %.1f ms of server CPU per PUT, median %s ms per PUT\n", b, c * 1000 / t / n, w }'
}

for round in $(seq "${ROUNDS:-3}"); do
    for bin in "$@"; do
        measure "$bin" "$round"
    done
done
