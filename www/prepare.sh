#!/usr/bin/env bash
# Copies the built npm package (pkg/) into www/vendor/vdk-secrets/, where the page imports it
# from. Builds pkg/ first when it is missing or older than the sources it is built from. Run
# from anywhere; scripts/serve.sh and scripts/test-ui.sh call it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f pkg/index.js || ! -f pkg/vdk_secrets_bg.wasm ]] ||
    [[ -n "$(find src npm Cargo.toml Cargo.lock -newer pkg/vdk_secrets_bg.wasm -print -quit)" ]]; then
    scripts/build-npm.sh
fi
rm -rf www/vendor/vdk-secrets
mkdir -p www/vendor/vdk-secrets
# Only what a browser loads: the entry module, the wasm-bindgen glue, the JS snippets the glue
# imports (when the package has any) and the module itself.
cp pkg/index.js pkg/vdk_secrets.js pkg/vdk_secrets_bg.wasm www/vendor/vdk-secrets/
if [[ -d pkg/snippets ]]; then
    cp -r pkg/snippets www/vendor/vdk-secrets/
fi
