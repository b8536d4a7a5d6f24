#!/usr/bin/env bash
# Make (or reuse) the Python environment this project runs in, then print its
# python's path. The venv lives outside the checkout, keyed on the dependency
# list, so a clean clone reuses it when nothing changed and rebuilds it when
# pyproject.toml does. Usage: PY=$(scripts/bootstrap.sh [--test]) || exit 1
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
extra=""
[ "${1:-}" = "--test" ] && extra="test"
py=${PYTHON:-python3}
key=$( (cat "$root/pyproject.toml" "$root/scripts/bootstrap.sh"; echo "$extra"; $py --version) | sha256sum | cut -c1-16)
cache=${EXPRESSION_EDITOR_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/expression-editor}
venv="$cache/venv-$key"
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    echo "setting up $venv (first run: downloads torch, a few minutes)" >&2
    rm -rf "$venv"
    mkdir -p "$cache"
    $py -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    # The dependency list is pyproject.toml's; the project itself runs from the
    # checkout (no install), so one venv serves every clone.
    deps=$("$venv/bin/python" - "$root/pyproject.toml" "$extra" <<'PY'
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
deps = list(project["dependencies"])
if sys.argv[2]:
    deps += project["optional-dependencies"][sys.argv[2]]
print("\n".join(deps))
PY
)
    mapfile -t dep_list <<<"$deps"
    "$venv/bin/python" -m pip install -q "${dep_list[@]}" >&2
    touch "$venv/.complete"
fi
echo "$venv/bin/python"
