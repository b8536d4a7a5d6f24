#!/usr/bin/env bash
# Set up the environment (first run only; shared with ./run_tests.sh), then start the editor UI.
# Arguments go to `python -m editor`, e.g. ./run_editor.sh --share
set -euo pipefail
cd "$(dirname "$0")"
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}  # idle torch threads sleep instead of spinning
PY=$(scripts/bootstrap.sh)
exec "$PY" -m editor "$@"
