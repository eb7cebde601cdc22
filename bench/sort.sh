#!/usr/bin/env bash
# Sort benchmark: our `flow-models sort` (release build) against the original
# `python -m flow_models.sort` on the same 10 M-record trace in collector export order, sorted
# by start time; several runs each; prints medians, peak RSS, the speed-up, and checks that
# the outputs are byte-identical. Then sorts the 50 M-record trace by (sa3, da3) under
# --memory-limit 2G, reports peak RSS and the spill, and checks the result against the
# original's ordering (numpy lexsort, as flow_models.sort computes it).
#
#   bench/sort.sh     (REPS=3 ORIG_REPS=3 T10M=... T50M=... BIG=0 to skip the 50 M run)
set -euo pipefail
cd "$(dirname "$0")/.."
T10M=${T10M:-/work/bench-data/t10m_export}
T50M=${T50M:-/work/bench-data/t50m}
REPS=${REPS:-3}
ORIG_REPS=${ORIG_REPS:-3}
BIG=${BIG:-1}
PY=${PY:-/work/venv/fm/bin/python}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flow-models}
[ -x "$BIN" ] || { echo "build first: cargo build --release -p flow-cli (or set BIN)"; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench-sort.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
source bench/timing.sh

echo "sort -k first first_ms $T10M ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
# Our writer fsyncs every output file before the atomic rename (durable output); the original
# leaves its 600 MB to the kernel's writeback, which later runs then wait for. So before every
# run, untimed: the previous output removed (deleting its blocks cost up to 1.5 s more in the
# timed run) and a `sync`; the original is timed both as is and with its `sync` included.
BEFORE_EACH="rm -rf '$TMP/ours'; sync" run_reps ours "$REPS" "$BIN" sort -k first first_ms -O "$TMP/ours" "$T10M"
BEFORE_EACH="rm -rf '$TMP/orig'; sync" run_reps original "$ORIG_REPS" "$PY" -m flow_models.sort -k first first_ms -O "$TMP/orig" "$T10M"
BEFORE_EACH="rm -rf '$TMP/orig'; sync" run_reps orig+sync "$ORIG_REPS" bash -c '"$@" && sync' _ "$PY" -m flow_models.sort -k first first_ms -O "$TMP/orig" "$T10M"
ratio original ours
ratio orig+sync ours
same=yes
for f in "$TMP"/orig/*; do cmp -s "$f" "$TMP/ours/$(basename "$f")" || { same=no; echo "differs: $(basename "$f")"; }; done
echo "byte-identical to the original: $same ($(ls "$TMP/orig" | wc -l) column files)"
rm -rf "$TMP/ours" "$TMP/orig"

[ "$BIG" = 1 ] || exit 0
echo "sort -k sa3 da3 --memory-limit 2G $T50M (spill files in $TMP)"
out=$( { /usr/bin/time -f "%e %M" "$BIN" sort -k sa3 da3 --memory-limit 2G --temp-dir "$TMP" \
        -O "$TMP/big" "$T50M" 2>&1; } 2>&1)
echo "$out" | grep -v '^[0-9.]* [0-9]*$' | sed 's/^/  /'
last=$(echo "$out" | tail -1)
echo "ours: ${last% *} s, peak RSS $(( ${last#* } / 1024 )) MiB"
"$PY" bench/verify_sort.py "$T50M" "$TMP/big" sa3 da3
