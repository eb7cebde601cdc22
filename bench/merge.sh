#!/usr/bin/env bash
# Merge benchmark: our `flow-models merge` (release build) against the original
# `python -m flow_models.merge` on the same 1 M-record trace from gen_flows.py, binary in and
# out, several runs each; prints medians, peak RSS and the speed-up, and checks that both
# outputs are the same multiset of records except the documented fixes.
#
#   bench/merge.sh [TRACE]        (default /work/bench-data/t1m; REPS=5 ORIG_REPS=3)
#
# LARGE=DIR (e.g. a 50 M-record trace from gen_flows.py) also times ours alone on DIR, twice:
# the merge itself (`SELECT count(*) FROM flow_merge(...)`, nothing written) and the whole
# `merge` to a binary trace (written and synced to disk). The original would take minutes there.
set -euo pipefail
cd "$(dirname "$0")/.."
TRACE=${1:-/work/bench-data/t1m}
REPS=${REPS:-5}
ORIG_REPS=${ORIG_REPS:-3}
PY=${PY:-$HOME/.cache/flow-models/venv/bin/python}
source bench/timing.sh
release_binary_and_scratch merge

echo "merge $TRACE ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
run_reps ours "$REPS" "$BIN" merge -I 15 -A 300 -i binary -o binary -O "$TMP/ours" "$TRACE"
"$BIN" merge -I 15 -A 300 -o binary -O "$TMP/ours" "$TRACE" 2>&1 | sed 's/^/  /'
run_reps original "$ORIG_REPS" "$PY" -m flow_models.merge -I 15 -A 300 -i binary -o binary -O "$TMP/orig" "$TRACE"
rm -rf "$TMP/orig" && "$PY" -m flow_models.merge -I 15 -A 300 -i binary -o binary -O "$TMP/orig" "$TRACE" 2>&1 | tail -1 | sed 's/^/  /'
ratio original ours
records=$(( $(stat -c %s "$TRACE"/packets.Q) / 8 ))
echo "ours: $(echo "scale=1; $records / ${MEDIAN[ours]} / 1000000" | bc) M records/s"
"$PY" bench/compare_flows.py "$TMP/ours" "$TMP/orig"

if [ -n "${LARGE:-}" ]; then
    large=$(( $(stat -c %s "$LARGE"/packets.Q) / 8 ))
    echo
    echo "large trace $LARGE: $large records"
    run_reps merge_only 3 "$BIN" sql -q -c "SELECT count(*) FROM flow_merge('$LARGE', 15, 300)"
    echo "merge alone: $(echo "scale=1; $large / ${MEDIAN[merge_only]} / 1000000" | bc) M records/s"
    run_reps to_disk 3 "$BIN" merge -I 15 -A 300 -i binary -o binary -O "$TMP/large" "$LARGE"
    echo "merge to a synced binary trace: $(echo "scale=1; $large / ${MEDIAN[to_disk]} / 1000000" | bc) M records/s"
fi
