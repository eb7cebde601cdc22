#!/usr/bin/env bash
# Runs bench/python.py in a venv with the release wheel of python/ and flow-models 2.2 (made or
# updated under ~/.cache/flow-models/pybench; the wheel is built in CARGO_TARGET_DIR, which
# should be the release target directory of the CLI it is compared with).
#
#   CARGO_TARGET_DIR=~/.cache/flow-models/release-target bench/python.sh [TRACE] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${PYBENCH_VENV:-$HOME/.cache/flow-models/pybench}
if ! "$venv/bin/python" -c "import datafusion, flow_models, maturin" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q 'datafusion==55.*' flow-models==2.2 numpy scipy pandas 'maturin>=1.6,<2'
fi
PATH="$venv/bin:$PATH" "$venv/bin/pip" install -q --no-build-isolation --force-reinstall --no-deps ./python
"$venv/bin/python" bench/python.py "$@"
