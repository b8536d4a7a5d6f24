#!/usr/bin/env bash
# The installed package, checked from scratch: a fresh virtual environment,
# `pip install .`, then, from a directory far from the checkout, the
# `expression-editor` command serves the app and a gradio_client edits a photo
# through it (the photo's faces, expression happy, few inversion steps).
# Prints what each step took. Usage: scripts/check_install.sh [PHOTO]
# (default: the shipped example astronaut.jpg). Needs a few GB of disk for
# PyTorch; deletes everything it made when it ends.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
photo=$(realpath "${1:-$root/assets/examples/astronaut.jpg}")
py=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/expression-editor-check.XXXXXX")
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

start=$SECONDS
"$py" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$root"
echo "pip install . into a fresh venv: $((SECONDS - start)) s, $(du -sh "$work/venv" | cut -f1)"

cd "$work"  # nothing of the checkout is on the path from here
port=$("$work/venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start=$SECONDS
EXPRESSION_EDITOR_CACHE="$work/cache" "$work/venv/bin/expression-editor" --port "$port" >"$work/server.log" 2>&1 &
server=$!
until grep -q "^Expression editor on" "$work/server.log"; do
    if ! kill -0 "$server" 2>/dev/null || [ $((SECONDS - start)) -gt 600 ]; then
        cat "$work/server.log" >&2
        echo "check failed: expression-editor did not start" >&2
        exit 1
    fi
    sleep 1
done
echo "expression-editor serving on port $port after $((SECONDS - start)) s:"
sed 's/^/    /' "$work/server.log"

start=$SECONDS
"$work/venv/bin/python" - "http://127.0.0.1:$port/" "$photo" <<'PY'
import sys

import PIL.Image
from gradio_client import Client, handle_file

url, photo = sys.argv[1:]
client = Client(url, verbose=False)
(before, after), download, summary = client.predict(
    photo=handle_file(photo), expression="happy", steps=10, restarts=1, api_name="/edit")
edited = PIL.Image.open(download)
assert edited.size == PIL.Image.open(photo).size, (edited.size, PIL.Image.open(photo).size)
print("edited through gradio_client:", summary.splitlines()[0])
PY
echo "edit: $((SECONDS - start)) s; check passed"
