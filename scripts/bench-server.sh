#!/usr/bin/env bash
# GET throughput of the reference server (Vault backend) against direct OpenBao KV v2 reads of
# the same job, at the same concurrency, in one run: the server as shipped (concurrent reads of
# a job share Vault reads) and with --no-read-batching (one Vault read per GET). Then PUT
# throughput: conditional writes as clients make them (read the ETag, PUT with If-Match) against
# direct KV v2 check-and-set writes (read the version, write with options.cas), one job per
# connection so that writers never conflict (scripts/bench-write.lua). Runs alternate and the
# median of each is reported, because this machine is noisy.
#
#   scripts/bench-server.sh [connections] [seconds-per-run] [rounds]    (default 16 10 3)
#
# Needs wrk (Debian) and OpenBao; installs both if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
connections="${1:-16}"
seconds="${2:-10}"
rounds="${3:-3}"
source scripts/lib.sh

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet -p vdk-secrets-server
server_bin="$CARGO_TARGET_DIR/release/vdk-secrets-server"
start_openbao bao bench-root

token="bench-$(date +%s%N)"
printf %s "$token" | "$server_bin" hash-token > "$work/tokens"
start_server() {  # name, extra flags...
    local name="$1"; shift
    VAULT_TOKEN=bench-root VDK_SECRETS_LOG=warn spawn "$name" "$server_bin" serve \
        --listen 127.0.0.1:0 --backend vault --vault-addr "$bao_url" --tokens-file "$work/tokens" "$@"
    echo "$spawned" > "$work/$name.pid"
}
start_server batched
start_server unbatched --no-read-batching
batched_url="$(server_url batched)"
unbatched_url="$(server_url unbatched)"

# A realistic job: 20 secrets, ~1.5 KB of JSON.
set_json="$(python3 -c 'import json; print(json.dumps({f"secret_{i:02}": "v" * 64 for i in range(20)}))')"
secrets_url="$batched_url/data-jobs/for-team/bench/jobs/job/deployments/TODO/secrets"
curl -sf -X PUT -H "Authorization: Bearer $token" -d "$set_json" "$secrets_url"
direct_url="$bao_url/v1/secret/data/bench/job"
unbatched_secrets_url="${secrets_url/$batched_url/$unbatched_url}"

rps() { sed -n 's/^Requests\/sec: *//p'; }
# CPU seconds (user + system) a process has used so far.
cpu() { awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
run_direct() { wrk -t1 -c"$connections" -d"${seconds}s" -H "X-Vault-Token: bench-root" "$direct_url" | rps; }
run_server() { wrk -t1 -c"$connections" -d"${seconds}s" -H "Authorization: Bearer $token" "$1" | rps; }

wrk -t1 -c"$connections" -d2s -H "X-Vault-Token: bench-root" "$direct_url" >/dev/null
wrk -t1 -c"$connections" -d2s -H "Authorization: Bearer $token" "$secrets_url" >/dev/null
wrk -t1 -c"$connections" -d2s -H "Authorization: Bearer $token" "$unbatched_secrets_url" >/dev/null
direct=(); batched=(); unbatched=()
for round in $(seq "$rounds"); do
    direct+=("$(run_direct)")
    bao_before="$(cpu "$bao_pid")"; server_before="$(cpu "$(cat "$work/unbatched.pid")")"
    unbatched+=("$(run_server "$unbatched_secrets_url")")
    bao_cpu="$(python3 -c "print($(cpu "$bao_pid") - $bao_before)")"
    server_cpu="$(python3 -c "print($(cpu "$(cat "$work/unbatched.pid")") - $server_before)")"
    requests="$(python3 -c "print(${unbatched[-1]} * $seconds)")"
    batched+=("$(run_server "$secrets_url")")
    echo "round $round: OpenBao direct ${direct[-1]} req/s; server ${batched[-1]} req/s;" \
        "server --no-read-batching ${unbatched[-1]} req/s (CPU per request there: OpenBao" \
        "$(python3 -c "print(round($bao_cpu / $requests * 1e6))") µs, server" \
        "$(python3 -c "print(round($server_cpu / $requests * 1e6))") µs)"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d="$(median "${direct[@]}")"; b="$(median "${batched[@]}")"; u="$(median "${unbatched[@]}")"
echo "GET median ($connections connections, ${seconds}s runs, $rounds rounds): OpenBao direct $d req/s;" \
    "server $b req/s (ratio $(python3 -c "print(f'{$b/$d:.2f}')"));" \
    "server --no-read-batching $u req/s (ratio $(python3 -c "print(f'{$u/$d:.2f}')"))"

# Writes: one wrk thread per connection, each with its own job (the script keeps the version it
# read per connection). The direct writes store the record the server stores, under another path.
record_json="$(python3 -c 'import json, sys; print(json.dumps({"jobName": "bench-direct/writer", "secretsJson": sys.argv[1]}))' "$set_json")"
# Prints "writes/s conflicts failures" of one run against $1 in mode $2 (server or vault).
run_writes() {
    local out
    if [[ "$2" == server ]]; then
        out="$(BENCH_MODE=server BENCH_BODY="$set_json" wrk -t"$connections" -c"$connections" \
            -d"${3:-$seconds}s" -s scripts/bench-write.lua -H "Authorization: Bearer $token" "$1")"
    else
        out="$(BENCH_MODE=vault BENCH_BODY="$record_json" wrk -t"$connections" -c"$connections" \
            -d"${3:-$seconds}s" -s scripts/bench-write.lua -H "X-Vault-Token: bench-root" "$1")"
    fi
    echo "$(sed -n 's/^Writes\/sec: *//p' <<< "$out") $(sed -n 's/^Write conflicts: *//p' <<< "$out")" \
        "$(sed -n 's/^Write failures: *//p' <<< "$out")"
}
run_writes "$bao_url" vault 2 >/dev/null
run_writes "$batched_url" server 2 >/dev/null
direct_writes=(); server_writes=()
for round in $(seq "$rounds"); do
    read -r dw dconf dfail <<< "$(run_writes "$bao_url" vault)"
    read -r sw sconf sfail <<< "$(run_writes "$batched_url" server)"
    direct_writes+=("$dw"); server_writes+=("$sw")
    echo "round $round: OpenBao direct check-and-set $dw writes/s (conflicts $dconf, failures $dfail);" \
        "server If-Match PUT $sw writes/s (conflicts $sconf, failures $sfail)"
done
dw="$(median "${direct_writes[@]}")"; sw="$(median "${server_writes[@]}")"
echo "PUT median ($connections connections, one job each, a read before every write):" \
    "OpenBao direct $dw writes/s; server $sw writes/s (ratio $(python3 -c "print(f'{$sw/$dw:.2f}')"))"
