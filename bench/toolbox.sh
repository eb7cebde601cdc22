#!/usr/bin/env bash
# The rest of the toolbox against flow-models 2.2, same inputs, in one run: `cut` (a record
# range of a binary trace), `anonymize` (Crypto-PAn of every IPv4 flow, csv_flow out) and
# `series` (every packet of every flow placed in its second: the original loops in Python over
# each packet, minutes on 1 M flows, so it runs SERIES_ORIG_REPS times); prints medians and the
# speed-ups, and checks the outputs are identical.
#
#   bench/toolbox.sh [TRACE]      (default /work/bench-data/t1m; REPS=5 ORIG_REPS=3
#                                  SERIES_ORIG_REPS=1)
#
# env: PY (python with flow-models 2.2; `cryptography` is installed into its venv when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
TRACE=${1:-/work/bench-data/t1m}
REPS=${REPS:-5}
ORIG_REPS=${ORIG_REPS:-3}
SERIES_ORIG_REPS=${SERIES_ORIG_REPS:-1}
PY=${PY:-$HOME/.cache/flow-models/venv/bin/python}
KEY=boojahyoo3vaeToong0Eijee7Ahz3yee
source bench/timing.sh
release_binary_and_scratch toolbox
"$PY" -c 'import cryptography' 2>/dev/null || "$PY" -m pip install -q cryptography
rows=$(( $(stat -c %s "$TRACE"/packets.Q) / 8 ))
half=$(( rows / 2 ))
echo "toolbox $TRACE ($rows records, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"

BEFORE_EACH="rm -rf '$TMP/cut_ours' '$TMP/cut_orig'"
run_reps cut_ours "$REPS" "$BIN" cut -i binary -o binary -O "$TMP/cut_ours" --skip-in 1000 --count-in "$half" "$TRACE"
run_reps cut_orig "$ORIG_REPS" "$PY" -m flow_models.cut -i binary -o binary -O "$TMP/cut_orig" --skip-in 1000 --count-in "$half" "$TRACE"
unset BEFORE_EACH
ratio cut_orig cut_ours
"$BIN" cut -i binary -o binary -O "$TMP/cut_ours" --skip-in 1000 --count-in "$half" "$TRACE" 2>/dev/null
"$PY" -m flow_models.cut -i binary -o binary -O "$TMP/cut_orig" --skip-in 1000 --count-in "$half" "$TRACE" 2>/dev/null
diff -r "$TMP/cut_ours" "$TMP/cut_orig" >/dev/null && echo "  cut outputs identical" || echo "  cut outputs DIFFER"

run_reps anon_ours "$REPS" "$BIN" anonymize -i binary -o csv_flow -O "$TMP/anon_ours.csv" --key "$KEY" "$TRACE"
run_reps anon_orig "$ORIG_REPS" "$PY" -m flow_models.anonymize -i binary -o csv_flow -O "$TMP/anon_orig.csv" --key "$KEY" "$TRACE"
ratio anon_orig anon_ours
cmp -s "$TMP/anon_ours.csv" "$TMP/anon_orig.csv" && echo "  anonymize outputs identical" || echo "  anonymize outputs DIFFER"

BEFORE_EACH="rm -rf '$TMP/series_ours' '$TMP/series_orig'"
run_reps series_ours "$REPS" "$BIN" series -i binary -O "$TMP/series_ours" "$TRACE"
run_reps series_orig "$SERIES_ORIG_REPS" "$PY" -m flow_models.series -i binary -O "$TMP/series_orig" "$TRACE"
unset BEFORE_EACH
ratio series_orig series_ours
"$BIN" series -i binary -O "$TMP/series_ours" "$TRACE" 2>/dev/null
diff -r "$TMP/series_ours" "$TMP/series_orig" >/dev/null && echo "  series outputs identical" || echo "  series outputs DIFFER"

# series_plot: the original globs *.flows, *.packets, *.octets in the working directory and
# writes PDF; ours takes the files and writes PNG.
PLOTS="$TMP/series_plot"
mkdir -p "$PLOTS"
cp "$TMP"/series_ours/* "$PLOTS"/
run_reps series_plot_ours "$REPS" "$BIN" series-plot -O "$PLOTS" "$PLOTS"/*.flows "$PLOTS"/*.packets "$PLOTS"/*.octets
run_reps series_plot_orig "$SERIES_ORIG_REPS" bash -c "cd '$PLOTS' && '$PY' -m flow_models.series_plot"
ratio series_plot_orig series_plot_ours
