#!/usr/bin/env bash
# Set up quotestance in .venv/ (idempotent). Uses only PyPI; torch is not needed by the rules
# and, when the ml extra is installed, is pinned to 2.13.0 (the local CPU wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[dev]"
.venv/bin/quotestance --version
