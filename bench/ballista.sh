#!/usr/bin/env bash
# flow-models on a Ballista cluster against locally, in one run, medians of REPS whole processes:
# `SELECT count(*), sum(packets), sum(octets)`, sql/hist.sql (the plain GROUP BY histogram) and
# `hist -x length -b 12` (the fast histogram: `hist --remote`, flow_hist on the cluster) and the
# count and sums of `flow_merge` (merged by key partitions on the cluster) over a
# binary trace (default the 50 M trace), locally and on a cluster of one then two executors
# started from the same binary on 127.0.0.1 (one scheduler; each executor with one task slot per
# core). On one 2-core machine the executors share the cores: what is measured is the overhead
# of distribution (planning on the scheduler, shipping plans, tasks, shuffles through the
# executors' work directories). Then `sort -k first first_ms` of SORT_TRACE (default the 10 M
# trace in export order) locally and with --remote (each executor sorts its partitions, one
# merges). Outputs are checked equal to the local ones.
# Usage: [REPS=5] [TRACE=/work/bench-data/t50m] [SORT_TRACE=/work/bench-data/t10m_export]
#        [BIN=release binary] bench/ballista.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/timing.sh
release_binary_and_scratch ballista
REPS=${REPS:-5}
TRACE=$(realpath "${TRACE:-/work/bench-data/t50m}")
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; rm -rf "$TMP"' EXIT
listening() { until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do sleep 0.1; done; }

SCHEDULER=$(free_port)
"$BIN" scheduler --bind "127.0.0.1:$SCHEDULER" 2>"$TMP/scheduler.log" &
PIDS+=($!)
listening "$SCHEDULER"
URL=df://127.0.0.1:$SCHEDULER
add_executor() { # add_executor N
    local flight grpc
    flight=$(free_port) grpc=$(free_port)
    mkdir -p "$TMP/executor-$1"
    "$BIN" executor --scheduler "127.0.0.1:$SCHEDULER" --bind "127.0.0.1:$flight" \
        --grpc-port "$grpc" --work-dir "$TMP/executor-$1" 2>"$TMP/executor-$1.log" &
    PIDS+=($!)
    listening "$flight"
    sleep 1 # registered with the scheduler
}

SUMS="SELECT count(*), sum(packets), sum(octets) FROM flowbin('$TRACE')"
TABLE="CREATE EXTERNAL TABLE flows STORED AS FLOWBIN LOCATION '$TRACE'"
HIST=$(grep -v '^--' sql/hist.sql)
local_sums=("$BIN" sql -q --format csv -c "$SUMS")
local_hist=("$BIN" sql -q --format csv -c "$TABLE" -c "$HIST")
local_fast=("$BIN" hist -x length -b 12 "$TRACE")
local_merge=("$BIN" sql -q --format csv -c "SELECT count(*), sum(packets), sum(octets), sum(aggs) FROM flow_merge('$TRACE')")
SORT_TRACE=$(realpath "${SORT_TRACE:-/work/bench-data/t10m_export}")
local_sort=("$BIN" sort -k first first_ms -O "$TMP/sorted" "$SORT_TRACE")
echo "ballista bench: $(nproc) cores, trace $TRACE, REPS=$REPS, $BIN"
run_reps local-sort "$REPS" "${local_sort[@]}"
mv "$TMP/sorted" "$TMP/sorted-local"
run_reps local-sums "$REPS" "${local_sums[@]}"
run_reps local-hist "$REPS" "${local_hist[@]}"
run_reps local-fast "$REPS" "${local_fast[@]}"
run_reps local-merge "$REPS" "${local_merge[@]}"
want_merge=$("${local_merge[@]}")
want_fast=$("${local_fast[@]}")
want_sums=$("${local_sums[@]}")
want_hist=$("${local_hist[@]}" | cut -d, -f1-6,8) # rate_sum (a float sum) left out
for n in 1 2; do
    add_executor "$n"
    run_reps "$n-exec-sums" "$REPS" "${local_sums[@]}" --remote "$URL"
    run_reps "$n-exec-hist" "$REPS" "${local_hist[@]}" --remote "$URL"
    run_reps "$n-exec-fast" "$REPS" "${local_fast[@]}" --remote "$URL"
    run_reps "$n-exec-merge" "$REPS" "${local_merge[@]}" --remote "$URL"
    run_reps "$n-exec-sort" "$REPS" "${local_sort[@]}" --remote "$URL"
    diff -r "$TMP/sorted" "$TMP/sorted-local" >/dev/null && echo "  sort --remote on $n executor(s) = local" || echo "  sort --remote on $n executor(s): DIFFER"
    [ "$("${local_merge[@]}" --remote "$URL")" = "$want_merge" ] && echo "  merge on $n executor(s) = local" || echo "  merge on $n executor(s): DIFFER"
    [ "$("${local_fast[@]}" --remote "$URL")" = "$want_fast" ] && echo "  hist --remote on $n executor(s) = local" || echo "  hist --remote on $n executor(s): DIFFER"
    [ "$("${local_sums[@]}" --remote "$URL")" = "$want_sums" ] && echo "  sums on $n executor(s) = local" || echo "  sums on $n executor(s): DIFFER"
    [ "$("${local_hist[@]}" --remote "$URL" | cut -d, -f1-6,8)" = "$want_hist" ] && echo "  hist on $n executor(s) = local (but rate_sum's last digits)" || echo "  hist on $n executor(s): DIFFER"
done
for q in sums hist fast merge sort; do
    for n in 1 2; do
        printf '%s on %d executor(s) takes %.1fx the local time\n' "$q" "$n" \
            "$(echo "${MEDIAN[$n-exec-$q]} / ${MEDIAN[local-$q]}" | bc -l)"
    done
done
