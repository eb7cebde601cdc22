#!/usr/bin/env bash
# Traces with compressed fields against the plain trace, zstd's CLI and DuckDB over zstd Parquet
# (issue 26), one run, medians: builds the release binary and runs bench/compressed.py (its
# docstring has the details). The compressed copies are kept beside the trace (TRACE.compressed).
#
#   bash bench/compressed.sh [TRACE] [REPS]     # default /work/bench-data/t10m_export, 5
#   CODECS=zstd,lz4 bash bench/compressed.sh /work/bench-data/t50m 5
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flow-models/release-target}"
cargo build --release -q -p flow-cli
exec python3 bench/compressed.py "$@"
