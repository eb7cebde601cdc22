#!/usr/bin/env bash
# Sort benchmark: our `flow-models sort` (release build) against the original
# `python -m flow_models.sort` on the same 10 M-record trace in collector export order, sorted
# by start time; several runs each; prints medians, peak RSS, the speed-up, and checks that
# the outputs are byte-identical; then again on a copy in which no column has a single value
# (the sort writes such columns before it has the order; MIXED=0 skips this). Then sorts the
# 50 M-record trace by (sa3, da3) under --memory-limit 2G, reports peak RSS and the spill, and
# checks the result against the original's ordering (numpy lexsort, as flow_models.sort
# computes it). On the 10 M trace the SQL routes too (SQL=0 skips them): `COPY (SELECT * FROM
# flow_sort(t, 'first', 'first_ms')) … STORED AS FLOWBIN` and `COPY (SELECT * FROM flowbin(t)
# ORDER BY first, first_ms) … STORED AS FLOWBIN` (FlowSortRule), checked byte-identical to ours,
# and DuckDB's `COPY (SELECT * FROM read_parquet(…) ORDER BY first, first_ms) TO '….parquet'`
# on a Parquet copy of the trace (DuckDB cannot write the binary format; its sort is not
# stable, so its output is not compared).
#
#   bench/sort.sh     (REPS=3 ORIG_REPS=3 T10M=... T50M=... BIG=0 to skip the 50 M run, MIXED=0,
#                      SQL=0, DUCKDB_VENV=~/.cache/flow-models/duckdb: made with duckdb==1.5.5
#                      when missing)
set -euo pipefail
cd "$(dirname "$0")/.."
T10M=${T10M:-/work/bench-data/t10m_export}
T50M=${T50M:-/work/bench-data/t50m}
REPS=${REPS:-3}
ORIG_REPS=${ORIG_REPS:-3}
BIG=${BIG:-1}
MIXED=${MIXED:-1}
SQL=${SQL:-1}
PY=${PY:-$HOME/.cache/flow-models/venv/bin/python}
DUCKDB_VENV=${DUCKDB_VENV:-$HOME/.cache/flow-models/duckdb}
source bench/timing.sh
release_binary_and_scratch sort
if [ "$SQL" = 1 ] && ! "$DUCKDB_VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
    { python3 -m venv "$DUCKDB_VENV" && "$DUCKDB_VENV/bin/pip" install -q duckdb==1.5.5; } \
        >/dev/null 2>&1 || echo "could not install duckdb from PyPI: no DuckDB row"
fi

# Our writer fsyncs every output file before the atomic rename (durable output); the original
# leaves its 600 MB to the kernel's writeback, which later runs then wait for. So before every
# run, untimed: the previous output removed (deleting its blocks cost up to 1.5 s more in the
# timed run) and a `sync`; the original is timed both as is and with its `sync` included.
sort_10m() {
    echo "sort -k first first_ms $1 ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
    # (Ours reads the trace first: a trace that is not cached then goes into the page cache
    # in the 2 MiB folios our maps ask for, as it would for a user of flow-models alone.)
    BEFORE_EACH="rm -rf '$TMP/ours'; sync" run_reps ours "$REPS" "$BIN" sort -k first first_ms -O "$TMP/ours" "$1"
    "$PY" bench/mixed_trace.py "$1" | sed 's/^/  /'
    BEFORE_EACH="rm -rf '$TMP/orig'; sync" run_reps original "$ORIG_REPS" "$PY" -m flow_models.sort -k first first_ms -O "$TMP/orig" "$1"
    BEFORE_EACH="rm -rf '$TMP/orig'; sync" run_reps orig+sync "$ORIG_REPS" bash -c '"$@" && sync' _ "$PY" -m flow_models.sort -k first first_ms -O "$TMP/orig" "$1"
    ratio original ours
    ratio orig+sync ours
    if [ "$SQL" = 1 ]; then
        local copy="STORED AS FLOWBIN" q f
        for q in flow_sort order_by; do
            case $q in
                flow_sort) f="SELECT * FROM flow_sort('$1', 'first', 'first_ms')" ;;
                order_by) f="SELECT * FROM flowbin('$1') ORDER BY first, first_ms" ;;
            esac
            BEFORE_EACH="rm -rf '$TMP/$q'; sync" run_reps "$q" "$REPS" "$BIN" sql -q -c "COPY ($f) TO '$TMP/$q' $copy"
            ratio "$q" ours
            cmp_dirs=yes
            for f in "$TMP"/ours/*; do cmp -s "$f" "$TMP/$q/$(basename "$f")" || cmp_dirs=no; done
            echo "  $q output byte-identical to sort's: $cmp_dirs"
            rm -rf "${TMP:?}/$q"
        done
        if "$DUCKDB_VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
            "$BIN" convert -o parquet -O "$TMP/trace.parquet" "$1" 2>/dev/null
            BEFORE_EACH="rm -f '$TMP/duck.parquet'; sync" run_reps duckdb "$REPS" \
                "$DUCKDB_VENV/bin/python" -c 'import duckdb, sys; duckdb.sql(
                    f"COPY (SELECT * FROM read_parquet(\x27{sys.argv[1]}\x27) ORDER BY first, first_ms) "
                    f"TO \x27{sys.argv[2]}\x27 (FORMAT parquet)")' "$TMP/trace.parquet" "$TMP/duck.parquet"
            ratio duckdb ours
            ratio duckdb flow_sort
            rm -f "$TMP/trace.parquet" "$TMP/duck.parquet"
        fi
    fi
    local same=yes f
    for f in "$TMP"/orig/*; do cmp -s "$f" "$TMP/ours/$(basename "$f")" || { same=no; echo "differs: $(basename "$f")"; }; done
    echo "byte-identical to the original: $same ($(ls "$TMP/orig" | wc -l) column files)"
    rm -rf "$TMP/ours" "$TMP/orig"
}
sort_10m "$T10M"
if [ "$MIXED" = 1 ]; then
    # The same trace with no column of one value (see bench/mixed_trace.py).
    "$PY" bench/mixed_trace.py "$T10M" "$TMP/mixed" >/dev/null
    sort_10m "$TMP/mixed"
    rm -rf "$TMP/mixed"
fi

[ "$BIG" = 1 ] || exit 0
echo "sort -k sa3 da3 --memory-limit 2G $T50M (spill files in $TMP)"
out=$( { /usr/bin/time -f "%e %M" "$BIN" sort -k sa3 da3 --memory-limit 2G --temp-dir "$TMP" \
        -O "$TMP/big" "$T50M" 2>&1; } 2>&1)
echo "$out" | grep -v '^[0-9.]* [0-9]*$' | sed 's/^/  /'
last=$(echo "$out" | tail -1)
echo "ours: ${last% *} s, peak RSS $(( ${last#* } / 1024 )) MiB"
"$PY" bench/verify_sort.py "$T50M" "$TMP/big" sa3 da3
