#!/usr/bin/env bash
# Plot benchmark: our `flow-models plot` (release build) against the original
# `python -m flow_models.plot` on the same published histogram and mixtures (the whole plot set:
# cdf, three PDFs, three averages, PNG), several runs each in one run of this script; prints
# medians and the speed-up. LARGE=DIR also times `plot --sql` over `flow_hist` of a large
# binary trace (flows to figures in one command; e.g. a 50 M-record trace from gen_flows.py).
#
#   bench/plot.sh [HISTOGRAM.csv MIXTURE_DIR]   (default: agh_2015061019_IPv4_anon all/length)
#
# env: REPS (ours, default 11), ORIG_REPS (the original, default 3), PY (python with
# flow-models 2.2; matplotlib is installed into its venv when missing), X (default length).
set -euo pipefail
cd "$(dirname "$0")/.."
REF=flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon
X=${X:-length}
HIST=$(realpath "${1:-$REF/histograms/all/$X.csv}")
MIX=$(realpath "${2:-$REF/mixtures/all/$X}")
REPS=${REPS:-11}
ORIG_REPS=${ORIG_REPS:-3}
PY=${PY:-$HOME/.cache/flow-models/venv/bin/python}
source bench/timing.sh
release_binary_and_scratch plot
"$PY" -c 'import matplotlib' 2>/dev/null || "$PY" -m pip install -q matplotlib

echo "plot $HIST $MIX ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
run_reps ours "$REPS" "$BIN" plot -x "$X" -O "$TMP/ours" "$HIST" "$MIX"
mkdir -p "$TMP/orig"
run_reps original "$ORIG_REPS" bash -c "cd '$TMP/orig' && '$PY' -m flow_models.plot -x '$X' '$HIST' '$MIX'"
ratio original ours
for f in "$TMP"/ours/*.png; do
    n=$(basename "$f")
    printf '  %-20s ours %s, original %s\n' "$n" \
        "$(file -b "$f" | cut -d, -f2)" "$(file -b "$TMP/orig/$n" | cut -d, -f2)"
done

if [ -n "${LARGE:-}" ]; then
    large=$(( $(stat -c %s "$LARGE"/packets.Q) / 8 ))
    echo
    echo "plot --sql over flow_hist of $LARGE ($large records)"
    run_reps sql_plot 3 "$BIN" plot -O "$TMP/sql" --sql "SELECT * FROM flow_hist('$LARGE', '$X', 12)"
    run_reps hist_only 3 "$BIN" sql -q -c "SELECT count(*) FROM flow_hist('$LARGE', '$X', 12)"
fi
