#!/usr/bin/env bash
# Build exprlab's wheel, install it into a clean venv (no checkout on the path) and run the demo
# there: what a user who installs the package gets. Used by .ci/run.
#   bash scripts/check_wheel.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
python3.11 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet uv build
"$work/venv/bin/python" -m build --wheel --outdir "$work/dist" . >/dev/null
wheel=$(ls "$work"/dist/exprlab-*.whl)
links=()
for link in ${PIP_FIND_LINKS:-$(python3.11 -m pip config get global.find-links 2>/dev/null || true)}; do
  links+=(--find-links "$link")
done
# constraints.txt pins the CPU build of torch that a plain install would replace with a CUDA one
"$work/venv/bin/uv" pip install --quiet --python "$work/venv/bin/python" "${links[@]}" -c constraints.txt "$wheel"
cd "$work"
env -u PYTHONPATH "$work/venv/bin/exprlab" demo --out "$work/demo"
test -s "$work/demo/report.html"
env -u PYTHONPATH "$work/venv/bin/python" -c "import exprlab, pathlib; assert 'site-packages' in exprlab.__file__; print('wheel ok:', pathlib.Path('$wheel').name)"
