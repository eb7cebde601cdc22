#!/usr/bin/env bash
# hist against its floor (a plain scan of the same columns) and its peers (flow-models 2.2's
# numpy hist_np, DuckDB), every x at -b 12 and -b 0, one run, medians: builds the release binary
# and runs bench/hist.py (its docstring has the details) with flow-models 2.2's venv.
#
#   bash bench/hist.sh [TRACE] [REPS]        # default /work/bench-data/t50m, 5
#   CASES=length:12,rate:12 PEERS=0 bash bench/hist.sh /work/bench-data/t10m_export 9
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flow-models/release-target}"
cargo build --release -q -p flow-cli
venv="${FLOW_MODELS_VENV:-$HOME/.cache/flow-models/venv}"
OURS="$CARGO_TARGET_DIR/release/flow-models" exec "$venv/bin/python" bench/hist.py "$@"
