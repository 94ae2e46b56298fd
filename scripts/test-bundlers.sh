#!/usr/bin/env bash
# The npm package in the bundlers JavaScript developers use, tried as a new user would: packs
# pkg/ (built by scripts/build-npm.sh), installs the tarball into fresh apps made from
# npm/bundler-tests/ (Vite 6, whose default target lacks top-level await; Vite 8; webpack 5;
# TypeScript; each pinned by its lock file), builds each with default settings, serves each
# build with the reference server (dev mode, on a free port on 127.0.0.1, stopped by PID) and
# checks the page in headless Chromium: the module initialised, validated a set and reached
# the server. The TypeScript app type-checks typed code against the declarations.
#
#   scripts/test-bundlers.sh
#
# The apps' node_modules stay in ~/.cache/vdk-secrets/bundler-apps/ and are installed again
# (npm ci) only when a lock file changes; sources, the package and the builds are fresh each run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
pkg="${VDK_SECRETS_PKG_DIR:-$PWD/pkg}"
cache="${VDK_SECRETS_BUNDLER_APPS:-$HOME/.cache/vdk-secrets/bundler-apps}"
templates=npm/bundler-tests
[[ -f "$pkg/vdk_secrets_bg.wasm" ]] || { echo "no package in $pkg: run scripts/build-npm.sh" >&2; exit 1; }
cargo build --quiet -p vdk-secrets-server
server_bin="$CARGO_TARGET_DIR/debug/vdk-secrets-server"
tarball="$work/$(cd "$work" && npm pack "$pkg" --silent)"

pages=()
for app in typescript vite-6 vite-8 webpack-5; do
    dir="$cache/$app"
    if [[ ! -d "$dir/node_modules" ]] || ! cmp -s "$templates/$app/package-lock.json" "$dir/package-lock.json"; then
        echo "==> $app: npm ci"
        rm -rf "$dir" && mkdir -p "$dir"
        cp "$templates/$app/package.json" "$templates/$app/package-lock.json" "$dir/"
        (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    rm -rf "$dir/dist" "$dir/src" "$dir/index.html" "$dir/main.js" "$dir"/tsconfig*.json "$dir/node_modules/vdk-secrets"
    if [[ "$app" == typescript ]]; then
        cp -r "$templates/$app/src" "$templates/$app"/tsconfig*.json "$dir/"
    elif [[ "$app" == webpack-* ]]; then
        mkdir -p "$dir/src" && cp "$templates/page/main.js" "$dir/src/index.js"
    else
        cp "$templates/page/index.html" "$templates/page/main.js" "$dir/"
    fi
    echo "==> $app: install the packed package, build with default settings (${SECONDS}s so far)"
    (cd "$dir" && npm install --no-save --offline --no-audit --no-fund --loglevel=error "$tarball")
    (cd "$dir" && npm run --silent build) 2>&1 | tee "$work/$app-build.log"
    if grep -iE "externalized|top-level await|node:fs" "$work/$app-build.log"; then
        echo "$app: the build warned about the package (above)" >&2
        exit 1
    fi
    [[ "$app" == typescript ]] && continue
    [[ "$app" == webpack-* ]] && cp "$templates/page/webpack.html" "$dir/dist/index.html"
    spawn "$app" "$server_bin" serve --dev --listen 127.0.0.1:0 --data-dir "$work/data-$app" \
        --ui-dir "$dir/dist"
    pages+=("$app=$(server_url "$app")/")
done

echo "==> the builds in headless Chromium (${SECONDS}s so far)"
node "$templates/check.mjs" "${pages[@]}"
echo "==> the bundled apps work (${SECONDS}s)"
