#!/usr/bin/env bash
# Object-store benchmark: the 1 M and 10 M binary traces and a Parquet copy of each in a local
# S3 API server (s3s-fs, else moto_server; on 127.0.0.1), in one run, medians of REPS runs of
# whole processes:
#   - `SELECT count(*), sum(packets), sum(octets) FROM flowbin(...)` and
#     `hist -i binary -x length -b 12` over s3://bench/TRACE against the same on local disk;
#   - the same sums and hist over the Parquet copy by us (s3:// and local) and by DuckDB with
#     its httpfs extension from the same server (the extension from PyPI:
#     duckdb-extension-httpfs, loaded by path, signature checked; when it cannot be installed
#     or loaded, DuckDB reads the local Parquet file instead and the output says so);
#   - the server's raw speed: the same objects fetched by curl (SigV4-signed GETs), MB/s.
# A case that fails (today: flowbin and `-i binary` over s3://, not implemented yet) prints
# "n/a" and its error. Results are checked equal to the local ones.
#
#   bench/s3.sh        (REPS=5; FLOW_MODELS=binary, default $CARGO_TARGET_DIR/release/flow-models)
#
# env: T1M, T10M (binary traces; default /work/bench-data/t1m and t10m_export, made with
# `flow-models generate --trace` when missing), S3S (s3s-fs binary, default on PATH or in
# ~/.cache/flow-models/s3s/bin), DUCKDB_VENV (default ~/.cache/flow-models/duckdb, made when
# missing), TMPDIR (scratch: the server's root holds a copy of every object).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
T1M=${T1M:-/work/bench-data/t1m}
T10M=${T10M:-/work/bench-data/t10m_export}
BIN=${FLOW_MODELS:-${CARGO_TARGET_DIR:-target}/release/flow-models}
DUCKDB_VENV=${DUCKDB_VENV:-$HOME/.cache/flow-models/duckdb}
MIXTURES=flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon/mixtures/all/length
source bench/timing.sh
release_binary_and_scratch s3
KEY=bench
SECRET=benchsecret

# ---- traces -----------------------------------------------------------------------------------
for spec in "$T1M:1000000" "$T10M:10000000"; do
    t=${spec%:*}
    if [ ! -e "$t/packets.Q" ]; then
        echo "making $t (flow-models generate --trace, ${spec#*:} flows)"
        "$BIN" generate -s "${spec#*:}" --trace --seed 1 -o binary -O "$t" "$MIXTURES" >/dev/null
    fi
done

# ---- the server -------------------------------------------------------------------------------
source bench/s3_server.sh
start_s3_server "$KEY" "$SECRET"
fetch() { # fetch KEY...: the command that GETs the objects one after another, to /dev/null
    local k
    FETCH=("${SIGNED[@]}")
    for k in "$@"; do FETCH+=(-o /dev/null "$ENDPOINT/bench/$k"); done
}

# ---- DuckDB with httpfs -----------------------------------------------------------------------
if ! "$DUCKDB_VENV/bin/python" -c 'import duckdb, duckdb_extension_httpfs' 2>/dev/null; then
    { python3 -m venv "$DUCKDB_VENV" &&
        "$DUCKDB_VENV/bin/pip" install -q duckdb==1.5.5 duckdb-extension-httpfs==1.5.5; } >/dev/null 2>&1 ||
        echo "could not install duckdb + duckdb-extension-httpfs from PyPI"
fi
DUCK_PY=$DUCKDB_VENV/bin/python
# duck_query.py KIND PARQUET: runs the sums ("sums") or the fair hist query of bench/hist_duckdb.py
# ("hist") over PARQUET, an s3:// URL (httpfs) or a local file; "probe": loads httpfs only.
cat >"$TMP/duck_query.py" <<PY
import pathlib, sys
import duckdb
kind, parquet = sys.argv[1], sys.argv[2]
con = duckdb.connect()
if parquet.startswith('s3://'):
    import duckdb_extension_httpfs as ext
    con.execute(f"LOAD '{next(pathlib.Path(ext.__file__).parent.rglob('httpfs.duckdb_extension'))}'")
    con.execute("""CREATE SECRET (TYPE s3, KEY_ID '$KEY', SECRET '$SECRET', REGION 'us-east-1',
                   ENDPOINT '${ENDPOINT#http://}', URL_STYLE 'path', USE_SSL false)""")
if kind == 'probe':
    query = "SELECT 1"
elif kind == 'sums':
    query = f"SELECT count(*), sum(packets), sum(octets) FROM read_parquet('{parquet}')"
else:  # length, 12 bits: group by the exact value, then bin the few distinct values.
    width = "(1::UHUGEINT << greatest(0, length(bin(v)) - 12)::UHUGEINT)"
    query = f"""WITH exact AS (SELECT packets AS v, count(*) AS f, sum(packets) AS p, sum(octets) AS o
                FROM read_parquet('{parquet}') GROUP BY packets),
           binned AS (SELECT (v // {width}) * {width} AS lo, {width} AS w, f, p, o FROM exact)
           SELECT lo, lo + w, sum(f), sum(p), sum(o) FROM binned GROUP BY lo, w ORDER BY lo"""
    print('bin_lo,bin_hi,flows_sum,packets_sum,octets_sum')
for row in con.execute(query).fetchall():
    print(','.join(str(int(v)) for v in row))
PY
DUCK_WHERE=s3
if ! err=$("$DUCK_PY" "$TMP/duck_query.py" probe s3://bench 2>&1); then
    echo "DuckDB httpfs unavailable ($(echo "$err" | tail -1)): DuckDB reads the LOCAL Parquet files instead"
    DUCK_WHERE=local
fi

echo "s3 bench: $SERVER at $ENDPOINT, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), REPS=$REPS"
echo "flow-models: $BIN; DuckDB $("$DUCK_PY" -c 'import duckdb; print(duckdb.__version__)' 2>/dev/null || echo none) over $DUCK_WHERE Parquet"

# try NAME CMD...: runs CMD once; on success times it (run_reps) and keeps its output in
# OUT[NAME], else prints "n/a" and the error.
declare -A OUT
try() {
    local name=$1; shift
    local err=$TMP/err
    if OUT[$name]=$("$@" 2>"$err"); then
        run_reps "$name" "$REPS" "$@"
    else
        MEDIAN[$name]=
        printf '%-10s n/a: %s\n' "$name" "$( (grep -m1 -i 'error' "$err" || tail -1 "$err") | cut -c1-300)"
    fi
}
same() { # same A B: are the outputs of A and B the same (both ran)?
    if [ -z "${MEDIAN[$1]}" ] || [ -z "${MEDIAN[$2]}" ]; then echo "  $1 vs $2: n/a"
    elif [ "${OUT[$1]}" = "${OUT[$2]}" ]; then echo "  $1 = $2 (same output)"
    else echo "  $1 vs $2: OUTPUTS DIFFER"; fi
}
vs() { # vs A B: A's median time over B's (above 1: B is faster), or n/a
    if [ -n "${MEDIAN[$1]}" ] && [ -n "${MEDIAN[$2]}" ]; then
        echo "${MEDIAN[$1]} ${MEDIAN[$2]}" | awk -v a="$1" -v b="$2" '{printf "  time %s / %s: %.2fx\n", a, b, $1 / $2}'
    else echo "  time $1 / $2: n/a"; fi
}
mbps() { # mbps BYTES NAME: MB/s of a run of NAME
    if [ -n "${MEDIAN[$2]}" ]; then echo "$1 ${MEDIAN[$2]}" | awk '{printf "%.0f MB/s", $1 / 1e6 / $2}'; else echo "n/a"; fi
}

for t in "$T1M" "$T10M"; do
    n=$(basename "$t")
    rows=$(( $(stat -c %s "$t/packets.Q") / 8 ))
    "$BIN" convert -i binary -o parquet -O "$TMP/$n.parquet" "$t" 2>/dev/null
    for f in "$t"/*; do upload "$f" "$n/$(basename "$f")"; done
    upload "$TMP/$n.parquet" "$n.parquet"
    trace_bytes=$(cat "$t"/* | wc -c)
    pq_bytes=$(stat -c %s "$TMP/$n.parquet")
    # Bytes a query needs: packets and octets (8 bytes a record each).
    cols_bytes=$(( rows * 16 ))
    echo
    echo "== $n: $rows records; trace $((trace_bytes / 1000000)) MB ($((cols_bytes / 1000000)) MB in packets + octets), Parquet $((pq_bytes / 1000000)) MB"
    sums="SELECT count(*), sum(packets), sum(octets) FROM"
    table="CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION"
    echo "-- count + sums"
    try sum_local "$BIN" sql -q --format csv -c "$sums flowbin('$t')"
    try sum_s3 "$BIN" sql -q --format csv -c "$sums flowbin('s3://bench/$n')"
    try pq_local "$BIN" sql -q --format csv -c "$table '$TMP/$n.parquet'; $sums t"
    try pq_s3 "$BIN" sql -q --format csv -c "$table 's3://bench/$n.parquet'; $sums t"
    duck_pq=s3://bench/$n.parquet
    [ "$DUCK_WHERE" = s3 ] || duck_pq=$TMP/$n.parquet
    try duck_sum "$DUCK_PY" "$TMP/duck_query.py" sums "$duck_pq"
    same sum_local sum_s3
    same pq_local pq_s3
    # DuckDB prints no header.
    [ -n "${MEDIAN[duck_sum]}" ] && [ "${OUT[duck_sum]}" = "$(echo "${OUT[sum_local]}" | tail -1)" ] &&
        echo "  duck_sum = sum_local" || echo "  duck_sum vs sum_local: DIFFER or n/a"
    vs duck_sum sum_s3
    vs duck_sum pq_s3
    vs sum_s3 sum_local
    echo "  flowbin over s3: $(mbps "$cols_bytes" sum_s3) of packets + octets (local $(mbps "$cols_bytes" sum_local));" \
        "Parquet over s3: ours $(mbps "$pq_bytes" pq_s3), DuckDB $(mbps "$pq_bytes" duck_sum) (file size / time; both read only the projected columns)"

    echo "-- hist -x length -b 12"
    try hist_local "$BIN" hist -i binary -x length -b 12 "$t"
    try hist_s3 "$BIN" hist -i binary -x length -b 12 "s3://bench/$n"
    try hpq_local "$BIN" hist -i parquet -x length -b 12 "$TMP/$n.parquet"
    try hpq_s3 "$BIN" hist -i parquet -x length -b 12 "s3://bench/$n.parquet"
    try duck_hist "$DUCK_PY" "$TMP/duck_query.py" hist "$duck_pq"
    same hist_local hist_s3
    same hist_local hpq_s3
    same hpq_local hpq_s3
    same hist_local duck_hist
    vs duck_hist hist_s3
    vs duck_hist hpq_s3
    vs hist_s3 hist_local

    echo "-- the server's raw speed: curl GETs of the same objects, one after another"
    keys=()
    for f in "$t"/*; do keys+=("$n/$(basename "$f")"); done
    fetch "${keys[@]}"
    try curl_trace "${FETCH[@]}"
    fetch "$n/packets.Q" "$n/octets.Q"
    try curl_cols "${FETCH[@]}"
    fetch "$n.parquet"
    try curl_pq "${FETCH[@]}"
    echo "  curl: whole trace $(mbps "$trace_bytes" curl_trace), packets + octets $(mbps "$cols_bytes" curl_cols), Parquet $(mbps "$pq_bytes" curl_pq)"
done
