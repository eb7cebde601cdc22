#!/usr/bin/env bash
# Before/after comparison of two flow-models builds on the workloads of our bench scripts: for
# each of OUR workloads of bench/hist.py, scan.py, merge.sh, sort.sh, nfcapd.sh, fit.sh and
# memory_limit.sh (not the peers: numpy, DuckDB, flow-models 2.2 and nfdump do not change
# between our builds) it runs binary A and binary B interleaved, run by run (A, B, A, B, ...),
# after one untimed warm-up of each (page cache warm), and prints per workload the median wall
# time of A and of B, the ratio B/A, peak RSS, and whether the two builds wrote the same output
# (digest of the output files and of stdout of the last run of each).
#
#   A=path/to/flow-models B=path/to/other bench/compare_builds.sh
#
# env: REPS (timed runs per binary, default 7), REPS_LONG (runs of the long 50 M-record merge,
# sort and memory-limit workloads, default 3), ONLY / SKIP (extended regexes over workload
# names: run only the matching ones / leave the matching ones out), EVICT=0 (keep the page
# cache as found; by default the inputs are evicted first and read back by A, so that they are
# cached in the 2 MiB folios our maps ask for, as bench/scan.py does), DATA (default
# /work/bench-data) and T50M T1M T10M T10M_MIXED NFCAPD REF (inputs), SCRATCH (outputs and
# spill files; default $DATA/compare-scratch, on disk like the traces), PY (python with numpy
# and scipy, only to make missing inputs).
#
# Inputs, made when missing the way the bench scripts make them:
#   T50M        flow-models generate -s 50000000 --trace --seed 7 (memory_limit.sh, by A)
#   T1M         shared/bench/gen_flows.py --flows 1000000 --seed 1 (merge.sh: "from gen_flows.py")
#   T10M        gen_flows.py --flows 10000000 --seed 1 --order export (sort.sh's collector order)
#   T10M_MIXED  bench/mixed_trace.py T10M T10M_MIXED (sort.sh's second trace)
#   NFCAPD      the fixtures merged by nfdump 1, 64 and 45 times (nfcapd.sh; ~5.07 M records)
#
# Timing: wall clock from bash's EPOCHREALTIME around /usr/bin/time (which gives the peak RSS);
# bench/timing.sh's run_reps is not used as it runs all repetitions of one command in a row
# and /usr/bin/time's %e has 10 ms steps (scan, hist and fit take 0.04-0.15 s). Before every
# run, untimed: `sync`; after it, untimed: the output (and spill directory) removed, as
# bench/sort.sh does (our writer fsyncs, and deleting a previous output inside a timed run
# would cost that run up to seconds).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
: "${A:?set A=first binary (before)}" "${B:?set B=second binary (after)}"
A=$(realpath "$A"); B=$(realpath "$B")
for b in "$A" "$B"; do [ -x "$b" ] || { echo "not executable: $b" >&2; exit 1; }; done
REPS=${REPS:-7}
REPS_LONG=${REPS_LONG:-3}
ONLY=${ONLY:-}
SKIP=${SKIP:-}
EVICT=${EVICT:-1}
DATA=${DATA:-/work/bench-data}
T50M=${T50M:-$DATA/t50m}
T1M=${T1M:-$DATA/t1m}
T10M=${T10M:-$DATA/t10m_export}
T10M_MIXED=${T10M_MIXED:-$DATA/t10m_export_mixed}
NFCAPD=${NFCAPD:-$DATA/nfcapd_big}
REF=${REF:-$(cd .. && pwd)/shared/reference/agh_2015061019_IPv4_anon}
[ -d "$REF" ] || REF=/work/shared/reference/agh_2015061019_IPv4_anon
SCRATCH=${SCRATCH:-$DATA/compare-scratch}
PY=${PY:-$HOME/.cache/flow-models/venv/bin/python}
[ -x "$PY" ] || PY=python3
GEN=$(cd .. && pwd)/shared/bench/gen_flows.py
[ -f "$GEN" ] || GEN=/work/shared/bench/gen_flows.py

rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
trap 'rm -rf "$SCRATCH"' EXIT

# ---- inputs ---------------------------------------------------------------------------------
need() { [ -e "$1" ] && return 1; echo "making $1"; }
if need "$T50M"; then
    "$A" generate -s 50000000 --trace --seed 7 -o binary -O "$T50M" \
        flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon/mixtures/all/length || exit 1
fi
if need "$T1M"; then "$PY" "$GEN" --flows 1000000 --seed 1 --out "$T1M" >/dev/null || exit 1; fi
if need "$T10M"; then "$PY" "$GEN" --flows 10000000 --seed 1 --order export --out "$T10M" >/dev/null || exit 1; fi
if need "$T10M_MIXED"; then "$PY" bench/mixed_trace.py "$T10M" "$T10M_MIXED" || exit 1; fi
if need "$NFCAPD"; then
    command -v nfdump >/dev/null || { echo "nfdump not installed: cannot make $NFCAPD" >&2; exit 1; }
    w=$SCRATCH/nfcapd-make
    mkdir -p "$w/fixtures"
    for f in tests/data/nfcapd/*.nfcapd; do ln -s "$ROOT/$f" "$w/fixtures/"; done
    nfmerge() { # nfmerge <n links to file> <file> <out>
        local dir="$w/links.$(basename "$3")" i
        mkdir -p "$dir"
        for i in $(seq 1 "$1"); do ln -s "$2" "$dir/nfcapd.$(printf %04d "$i")"; done
        nfdump -R "$dir" -y -w "$3" 2>/dev/null
    }
    nfdump -R "$w/fixtures" -y -w "$w/f0" 2>/dev/null
    nfmerge 64 "$w/f0" "$w/f1"
    nfmerge 45 "$w/f1" "$NFCAPD"
    rm -rf "$w"
fi

echo "compare_builds: $(date -u '+%F %T UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
echo "A: $A ($(stat -c %s "$A") bytes, md5 $(md5sum <"$A" | cut -c1-12))"
echo "B: $B ($(stat -c %s "$B") bytes, md5 $(md5sum <"$B" | cut -c1-12))"
echo "REPS=$REPS REPS_LONG=$REPS_LONG; runs interleaved A,B,A,B,... after one untimed warm-up each"
for t in "$T50M" "$T1M" "$T10M" "$T10M_MIXED"; do
    echo "  $t: $(( $(stat -c %s "$t/packets.Q") / 8 )) records"
done
echo "  $NFCAPD: $(du -h "$NFCAPD" | cut -f1) nfcapd (LZ4)"

# ---- page cache -----------------------------------------------------------------------------
if [ "$EVICT" = 1 ]; then
    python3 - "$T50M" "$T1M" "$T10M" "$T10M_MIXED" "$NFCAPD" <<'PY'
import os, sys
for p in sys.argv[1:]:
    for f in ([os.path.join(p, n) for n in os.listdir(p)] if os.path.isdir(p) else [p]):
        fd = os.open(f, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
PY
    echo "inputs evicted from the page cache; read back by A (every column):"
fi
cols="sum(af), sum(prot), sum(inif), sum(outif), sum(sa0), sum(sa1), sum(sa2), sum(sa3), sum(da0),
  sum(da1), sum(da2), sum(da3), sum(sp), sum(dp), sum(first), sum(first_ms), sum(last), sum(last_ms),
  sum(packets), sum(octets), sum(aggs)"
for t in "$T50M" "$T1M" "$T10M" "$T10M_MIXED"; do
    "$A" sql -q --format csv -c "SELECT $cols FROM flowbin('$t')" >/dev/null || exit 1
done
"$A" sql -q --format csv -c "SELECT count(*) FROM nfcapd('$NFCAPD')" >/dev/null || exit 1
echo "page cache: $(free -m | awk '/^Mem:/ {print $6 " MiB buff/cache, " $7 " MiB available"}')"

# ---- one workload ---------------------------------------------------------------------------
# wl NAME REPS KIND CMD...: KIND is file (nothing made before a run), dir ({OUT} created empty
# first, for fit -O) or mset (a binary trace compared as a multiset, see digest). In CMD, {BIN}
# is the binary, {OUT} its output path ($SCRATCH/A.NAME or B.NAME), {TMP} a spill directory.
NAMES=()
declare -A MED_A MED_B RATIO SAME
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f", b - a}'; }
median() { sort -g | awk '{v[NR]=$1} END {printf "%.4f", (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
# A merge writes its records in an order that varies from run to run (two partitions), so its
# output (KIND mset) is compared as a multiset: count, every column's sum and sums of products
# of columns, computed by A.
I() { echo "(CAST($1 AS BIGINT) % 65521)"; }
MSET="SELECT count(*), $cols, sum($(I sa3) * $(I da3) + $(I sp) * $(I dp) + $(I first) * $(I packets)
  + $(I octets) * $(I last_ms) + $(I first_ms) * $(I prot) + $(I last) * $(I aggs))"
digest() { # output file or directory (KIND $3), and stdout, of the last run
    local out=$1 std=$2 kind=$3 d
    if [ "$kind" = mset ] && [ -d "$out" ]; then
        d=mset:$("$A" sql -q --format csv -c "$MSET FROM flowbin('$out')" | md5sum | cut -c1-12)
    elif [ -d "$out" ]; then d=$(cd "$out" && md5sum -- * 2>/dev/null | md5sum | cut -c1-12)
    elif [ -e "$out" ]; then d=$(md5sum <"$out" | cut -c1-12)
    else d=none; fi
    echo "out:$d stdout:$(md5sum <"$std" | cut -c1-12)"
}
wl() {
    local name=$1 reps=$2 kind=$3; shift 3
    [ -n "$ONLY" ] && ! [[ $name =~ $ONLY ]] && return 0
    [ -n "$SKIP" ] && [[ $name =~ $SKIP ]] && return 0
    local -A times rss digests fails
    local i side bin out spill a t0 t1 tf rc
    for ((i = 0; i <= reps; i++)); do      # i = 0: the untimed warm-up
        for side in A B; do
            bin=${!side}
            out=$SCRATCH/$side.$name
            spill=$SCRATCH/spill.$side.$name
            rm -rf "$out" "$spill"
            mkdir -p "$spill"
            [ "$kind" = dir ] && mkdir -p "$out"
            local c=()
            for a in "$@"; do a=${a//\{BIN\}/$bin}; a=${a//\{OUT\}/$out}; a=${a//\{TMP\}/$spill}; c+=("$a"); done
            sync
            tf=$SCRATCH/time.$side
            t0=$EPOCHREALTIME
            /usr/bin/time -o "$tf" -f "%M" "${c[@]}" >"$SCRATCH/stdout.$side" 2>"$SCRATCH/stderr.$side"
            rc=$?
            t1=$EPOCHREALTIME
            if [ "$rc" != 0 ]; then
                fails[$side]+="run $i exit $rc: $(grep -v '^Command exited' "$SCRATCH/stderr.$side" | tail -2 | tr '\n' ' ') "
            fi
            if ((i > 0)); then
                times[$side]+="$(secs "$t0" "$t1") "
                local m; m=$(tail -1 "$tf")
                [[ $m =~ ^[0-9]+$ ]] && (( m > ${rss[$side]:-0} )) && rss[$side]=$m
            fi
            ((i == reps)) && digests[$side]=$(digest "$out" "$SCRATCH/stdout.$side" "$kind")
            rm -rf "$out" "$spill"
        done
    done
    local ma mb r same
    ma=$(tr ' ' '\n' <<<"${times[A]}" | grep . | median)
    mb=$(tr ' ' '\n' <<<"${times[B]}" | grep . | median)
    r=$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.3f", b / a}')
    [ "${digests[A]}" = "${digests[B]}" ] && same=yes || same="NO (A ${digests[A]}, B ${digests[B]})"
    NAMES+=("$name"); MED_A[$name]=$ma; MED_B[$name]=$mb; RATIO[$name]=$r; SAME[$name]=$same
    echo
    echo "== $name ($reps runs each): $*"
    printf '   A median %8.3f s  runs %s  peak RSS %d MiB\n' "$ma" "${times[A]}" $(( ${rss[A]:-0} / 1024 ))
    printf '   B median %8.3f s  runs %s  peak RSS %d MiB\n' "$mb" "${times[B]}" $(( ${rss[B]:-0} / 1024 ))
    printf '   B/A %s; same output: %s\n' "$r" "$same"
    [ -n "${fails[A]:-}" ] && echo "   A FAILED: ${fails[A]}"
    [ -n "${fails[B]:-}" ] && echo "   B FAILED: ${fails[B]}"
    return 0
}

# ---- the workloads --------------------------------------------------------------------------
# bench/hist.py (-x length/size -b 12 on the 50 M trace; duration as well)
for x in length size duration; do
    wl "hist_${x}_b12" "$REPS" file {BIN} hist -i binary -x "$x" -b 12 -O {OUT} "$T50M"
done
# bench/scan.py
wl scan "$REPS" file {BIN} sql -q --format csv -c "SELECT sum(packets), sum(octets), count(*) FROM flowbin('$T50M')"
# bench/merge.sh: the 1 M trace, binary in and out; LARGE=50 M: the merge alone and to disk.
wl merge_1m "$REPS" mset {BIN} merge -I 15 -A 300 -i binary -o binary -O {OUT} "$T1M"
wl merge_50m_count "$REPS_LONG" file {BIN} sql -q -c "SELECT count(*) FROM flow_merge('$T50M', 15, 300)"
wl merge_50m "$REPS_LONG" mset {BIN} merge -I 15 -A 300 -i binary -o binary -O {OUT} "$T50M"
# Not in merge.sh (it has no unordered trace): the 10 M collector-order trace of sort.sh.
wl merge_10m_export "$REPS" mset {BIN} merge -I 15 -A 300 -i binary -o binary -O {OUT} "$T10M"
# bench/sort.sh: the 10 M collector-order trace, its mixed copy, the 50 M trace under 2G.
wl sort_10m "$REPS" file {BIN} sort -k first first_ms -O {OUT} "$T10M"
wl sort_10m_mixed "$REPS" file {BIN} sort -k first first_ms -O {OUT} "$T10M_MIXED"
wl sort_50m_2G "$REPS_LONG" file {BIN} sort -k sa3 da3 --memory-limit 2G --temp-dir {TMP} -O {OUT} "$T50M"
# convert (docs/performance.md's cases)
wl convert_csv_5m "$REPS" file {BIN} convert -i binary -o csv_flow --count-in 5000000 -O {OUT} "$T50M"
wl convert_bin_50m "$REPS" file {BIN} convert -i binary -o binary -O {OUT} "$T50M"
# bench/nfcapd.sh: count + sums, pinned to one core with one partition, and two partitions
q="SELECT count(*), sum(packets), sum(octets) FROM nfcapd('$NFCAPD')"
pin=(taskset -c 0)
command -v taskset >/dev/null || pin=()
wl nfcapd_1core "$REPS" file "${pin[@]}" {BIN} sql -q -c "SET datafusion.execution.target_partitions = 1" -c "$q"
wl nfcapd_2part "$REPS" file {BIN} sql -q -c "SET datafusion.execution.target_partitions = 2" -c "$q"
# bench/fit.sh: the published one-hour histograms
wl fit_length_U6L4 "$REPS" dir {BIN} fit -y flows -i 400 -U 6 -L 4 -O {OUT} "$REF/histograms/all/length.csv"
wl fit_size_L8 "$REPS" dir {BIN} fit -y flows -i 400 -L 8 -O {OUT} "$REF/histograms/all/size.csv"
# bench/memory_limit.sh: every memory-limited tool on the 50 M trace under --memory-limit 256M
L=256M
wl ml_hist_length "$REPS" file {BIN} hist -x length -b 12 --memory-limit $L -O {OUT} "$T50M"
wl ml_hist_size_b0 "$REPS" file {BIN} hist -x size -b 0 --memory-limit $L -O {OUT} "$T50M"
wl ml_merge "$REPS_LONG" mset {BIN} merge -I 15 -A 300 -i binary -o binary --memory-limit $L -O {OUT} "$T50M"
wl ml_sort "$REPS_LONG" file {BIN} sort -k sa3 da3 --memory-limit $L --temp-dir {TMP} -O {OUT} "$T50M"
mq() { local name=$1 reps=$2; shift 2; wl "$name" "$reps" file {BIN} sql --memory-limit $L -q --format csv -c "$1"; }
mq ml_sql_group_dp "$REPS" "SELECT dp, count(*) AS n, sum(octets) FROM flowbin('$T50M') GROUP BY dp ORDER BY n DESC LIMIT 3"
mq ml_sql_group_4 "$REPS_LONG" "SELECT sa3, da3, sp, dp, count(*) AS n FROM flowbin('$T50M') GROUP BY sa3, da3, sp, dp ORDER BY n DESC LIMIT 3"
mq ml_sql_topk "$REPS" "SELECT octets, first FROM flowbin('$T50M') ORDER BY octets DESC, first LIMIT 3"
mq ml_sql_sort_count "$REPS_LONG" "SELECT count(*) FROM (SELECT * FROM flowbin('$T50M') ORDER BY sa3, da3, sp, dp)"

# ---- summary --------------------------------------------------------------------------------
echo
echo "summary (median wall seconds; B/A > 1.03 flagged):"
printf '%-20s %10s %10s %7s  %s\n' workload "A" "B" "B/A" "same output"
for n in "${NAMES[@]}"; do
    flag=""
    awk -v r="${RATIO[$n]}" 'BEGIN {exit !(r > 1.03)}' && flag="  <-- B slower"
    printf '%-20s %10.3f %10.3f %7.3f  %s%s\n' "$n" "${MED_A[$n]}" "${MED_B[$n]}" "${RATIO[$n]}" "${SAME[$n]}" "$flag"
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
