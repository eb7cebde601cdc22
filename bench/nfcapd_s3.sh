#!/usr/bin/env bash
# nfcapd from a local S3 API server (s3s-fs, else moto_server; bench/s3_server.sh):
# `SELECT count(*), sum(packets), sum(octets)` over one nfcapd object by two builds (e.g.
# before/after a change of the remote reader), runs interleaved, medians and peak RSS printed;
# the same file on local disk and a plain curl GET of the object for scale; the CPU time of
# the new build's runs over the object (user+sys, against wall time: more than 1x is decoding
# on more than one core). PARTITIONS=n sets DataFusion's target partitions (local files are
# split in byte ranges over them, objects are not: their blocks are decoded in parallel).
# Usage: [PARTITIONS=n] bench/nfcapd_s3.sh OLD_BINARY NEW_BINARY NFCAPD_FILE [repetitions]
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2 file=$3 reps=${4:-5}
source bench/timing.sh
BIN=$new release_binary_and_scratch nfcapd-s3
source bench/s3_server.sh
start_s3_server bench benchsecret
upload "$file" nfcapd_big
if [[ -n ${PARTITIONS:-} ]]; then
    export DATAFUSION_EXECUTION_TARGET_PARTITIONS=$PARTITIONS
    export DATAFUSION_OPTIMIZER_REPARTITION_FILE_MIN_SIZE=1
fi
echo "nfcapd s3 bench: $SERVER, $(nproc) cores, $(stat -c %s "$file") bytes, REPS=$reps"

sql() { echo "SELECT count(*), sum(packets), sum(octets) FROM nfcapd('$1')"; }
url=s3://bench/nfcapd_big
echo "old s3:   $("$old" sql -q --format csv -c "$(sql $url)" | tail -1)"
echo "new s3:   $("$new" sql -q --format csv -c "$(sql $url)" | tail -1)"
echo "new disk: $("$new" sql -q --format csv -c "$(sql "$file")" | tail -1)"
/usr/bin/time -f "new s3, one run: %e s wall, %U s user + %S s sys (%P of one core)" \
    "$new" sql -q -c "$(sql $url)" >/dev/null
for ((i = 0; i < reps; i++)); do
    run_reps "old-$i" 1 "$old" sql -q -c "$(sql $url)" >/dev/null
    run_reps "new-$i" 1 "$new" sql -q -c "$(sql $url)" >/dev/null
done
summary() { # summary NAME: median and peak RSS over the runs NAME-0..
    local times=() peak=0 i
    for ((i = 0; i < reps; i++)); do
        times+=("${MEDIAN[$1-$i]}")
        (( RSS[$1-$i] > peak )) && peak=${RSS[$1-$i]}
    done
    MEDIAN[$1]=$(printf '%s\n' "${times[@]}" | median)
    printf '%-5s median %6.3f s over %d runs (%s), peak RSS %d MiB\n' \
        "$1" "${MEDIAN[$1]}" "$reps" "${times[*]}" $((peak / 1024))
}
summary old
summary new
run_reps disk "$reps" "$new" sql -q -c "$(sql "$file")"
run_reps curl "$reps" "${SIGNED[@]}" -o /dev/null "$ENDPOINT/bench/nfcapd_big"
ratio old new
