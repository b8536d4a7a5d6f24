#!/usr/bin/env bash
# Set up everything the tests need, then run them (CPU only).
set -euo pipefail
cd "$(dirname "$0")"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle torch threads sleep instead of spinning
PY=$(scripts/bootstrap.sh)  # the same environment as ./run_editor.sh
# The browser journey drives Debian's Chromium (Playwright cannot download its own here).
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
        || echo "warning: could not install chromium; browser tests will be skipped" >&2
fi
exec "$PY" -m pytest -q "$@"
