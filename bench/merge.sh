#!/usr/bin/env bash
# Merge benchmark: our `flow-models merge` (release build) against the original
# `python -m flow_models.merge` on the same 1 M-record trace from gen_flows.py, binary in and
# out, several runs each; prints medians, peak RSS and the speed-up, and checks that both
# outputs are the same multiset of records except the documented fixes.
#
#   bench/merge.sh [TRACE]        (default /work/bench-data/t1m; REPS=5 ORIG_REPS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
TRACE=${1:-/work/bench-data/t1m}
REPS=${REPS:-5}
ORIG_REPS=${ORIG_REPS:-3}
PY=${PY:-/work/venv/fm/bin/python}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flow-models}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p flow-cli (or set BIN)"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-merge.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
source bench/timing.sh

echo "merge $TRACE ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
run_reps ours "$REPS" "$BIN" merge -I 15 -A 300 -i binary -o binary -O "$TMP/ours" "$TRACE"
"$BIN" merge -I 15 -A 300 -o binary -O "$TMP/ours" "$TRACE" 2>&1 | sed 's/^/  /'
run_reps original "$ORIG_REPS" "$PY" -m flow_models.merge -I 15 -A 300 -i binary -o binary -O "$TMP/orig" "$TRACE"
rm -rf "$TMP/orig" && "$PY" -m flow_models.merge -I 15 -A 300 -i binary -o binary -O "$TMP/orig" "$TRACE" 2>&1 | tail -1 | sed 's/^/  /'
ratio original ours
records=$(( $(stat -c %s "$TRACE"/packets.Q) / 8 ))
echo "ours: $(echo "scale=1; $records / ${MEDIAN[ours]} / 1000000" | bc) M records/s"
"$PY" bench/compare_flows.py "$TMP/ours" "$TMP/orig"
