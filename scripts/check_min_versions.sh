#!/usr/bin/env bash
# Install exprlab with the lowest versions pyproject.toml allows for its direct dependencies and
# run the fast test suite against them. Run it when a minimum version changes:
#   bash scripts/check_min_versions.sh [VENV_DIR]
# It needs uv (installed into the throwaway venv) and network access to the package index.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-$(mktemp -d)/venv-min}"
python3.11 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet uv
links=()
for link in ${PIP_FIND_LINKS:-$(python3.11 -m pip config get global.find-links 2>/dev/null || true)}; do
  links+=(--find-links "$link")
done
# torch stays at the local pin (constraints.txt) so that no multi-GB build is downloaded: its
# declared minimum is the one version this script does not exercise.
"$venv/bin/uv" pip install --quiet --python "$venv/bin/python" "${links[@]}" \
  --resolution lowest-direct -c constraints.txt -e '.[dev]'
"$venv/bin/python" -m pip list --format freeze | grep -iE '^(numpy|scipy|pandas|anndata|h5py|torch|scikit-learn|typer|rich|matplotlib|pyarrow|numba|dask|distributed|pooch)='
"$venv/bin/python" -m pytest -q --maxfail=25 -p no:cacheprovider -m "not slow and not realdata" \
  --ignore=tests/test_docs_examples.py --ignore=tests/test_docs_run.py
