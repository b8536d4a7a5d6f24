#!/usr/bin/env bash
# Make (or reuse) the one Python environment that both README commands run in,
# then print its python's path. Usage: PY=$(scripts/bootstrap.sh) || exit 1
#
# It holds the project's dependencies and its `test` extra (small beside
# torch), so ./run_editor.sh and ./run_tests.sh share it and it is built once.
# It lives outside the checkout, keyed on the dependency lists and the Python
# version only: every clone with the same dependencies reuses it, and editing
# other parts of pyproject.toml rebuilds nothing. The project itself is not
# installed into it; the commands run from the checkout (`python -m editor`).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-python3}
recipe=2  # bump when the way the environment is built changes

# The dependency lists, one a line (pyproject.toml read with tomllib on Python
# 3.11+; on 3.10 the whole file stands in for them in the key).
deps=$("$py" - "$root/pyproject.toml" <<'PY'
import sys
try:
    import tomllib
except ImportError:  # Python 3.10: no TOML reader in the standard library
    sys.exit(3)
project = tomllib.load(open(sys.argv[1], "rb"))["project"]
print("\n".join(project["dependencies"] + project["optional-dependencies"]["test"]))
PY
) || { [ $? = 3 ] || exit 1; deps=""; }
if [ -n "$deps" ]; then
    keyed=$deps
else
    keyed=$(cat "$root/pyproject.toml")
fi
key=$( (echo "$recipe"; echo "$keyed"; "$py" --version) | sha256sum | cut -c1-16)
cache=${EXPRESSION_EDITOR_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/expression-editor}
venv="$cache/env-$key"
mkdir -p "$cache"

# Two commands started at once wait for one build instead of racing.
if command -v flock >/dev/null; then
    exec 9>"$venv.lock"
    flock 9
fi
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
    echo "setting up $venv (first run only: downloads PyTorch and Gradio, a few GB)" >&2
    start=$SECONDS
    rm -rf "$venv"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip >&2
    if [ -n "$deps" ]; then
        mapfile -t dep_list <<<"$deps"
        "$venv/bin/python" -m pip install -q "${dep_list[@]}" >&2
    else  # 3.10: let pip read pyproject.toml (this installs the project too, harmlessly)
        "$venv/bin/python" -m pip install -q "$root[test]" >&2
    fi
    touch "$venv/.complete"
    echo "environment ready in $((SECONDS - start)) s: $(du -sh "$venv" | cut -f1)" >&2
fi
echo "$venv/bin/python"
