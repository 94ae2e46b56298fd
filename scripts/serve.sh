#!/usr/bin/env bash
# The main job: the reference Secrets API server on the embedded encrypted store, in dev mode
# (no authentication, loopback only), serving the Operations UI at http://127.0.0.1:8080/
# with a sample job. Extra arguments go to `vdk-secrets-server serve`.
#   scripts/serve.sh [--listen 127.0.0.1:9000] ...
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/vdk-secrets/target}"
www/prepare.sh
cargo build --release --quiet -p vdk-secrets-server
echo "Open http://127.0.0.1:8080/?team=sample-team&job=sample-job (unless --listen says otherwise)"
exec "$CARGO_TARGET_DIR/release/vdk-secrets-server" serve --dev --ui-dir www --sample-job \
    --data-dir "${VDK_SECRETS_DATA_DIR:-vdk-secrets-data}" "$@"
