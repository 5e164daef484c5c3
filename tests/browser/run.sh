#!/usr/bin/env bash
# CTest entry of the browser test: installs playwright-core (the version pinned in
# package-lock.json, from the npm registry; never a browser download) into <build>/browser-deps
# once, then runs dashboard.spec.mjs against vectorize_testkit with Debian's chromium, saving the
# screenshots under <build>/screenshots.
#   tests/browser/run.sh BUILD_DIR        (VECTORIZE_TEST_KIT must be set; CHROMIUM optional)
# Exit 77 (skipped) when chromium is not installed (scripts/install-deps.sh installs it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "browser test skipped: $chromium not found (scripts/install-deps.sh installs chromium)"
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "browser test skipped: node and npm are needed (Node.js 20)"
  exit 77
fi
deps="$build/browser-deps"
mkdir -p "$deps"
(
  flock 9  # one install at a time (ctest -j)
  if [[ ! -f "$deps/node_modules/playwright-core/package.json" ]] ||
     ! cmp -s "$here/package-lock.json" "$deps/package-lock.json"; then
    cp "$here/package.json" "$here/package-lock.json" "$deps/"
    (cd "$deps" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund \
      --loglevel=error)
  fi
) 9>"$deps/.lock"
mkdir -p "$build/screenshots"
export CHROMIUM="$chromium" PLAYWRIGHT_DIR="$deps" SCREENSHOT_DIR="$build/screenshots"
exec node "$here/dashboard.spec.mjs"
