#!/usr/bin/env bash
# nfcapd read speed: flow-models' native decoder (release build, 1 and 2 partitions) against
# nfdump reading and aggregating the same LZ4 file, in one run. The ≥ 5 M-record file is made
# by nfdump itself: the fixtures merged into one file, that file merged 64 times, the result 45
# times (`nfdump -R dir -y -w`; directories of symlinks, so nothing big is copied but the file).
# Usage: bench/nfcapd.sh [repetitions]   (env WORK=dir for the scratch files, default /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
work=${WORK:-/tmp}/nfcapd-bench.$$
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flow-models/target}"
command -v nfdump >/dev/null || { echo "nfdump not installed: nothing to compare with" >&2; exit 1; }
cargo build -q --release -p flow-cli
ours="$CARGO_TARGET_DIR/release/flow-models"

merge() { # merge <n links to file> <file> <out>
    local dir="$work/links.$3"
    mkdir -p "$dir"
    for i in $(seq 1 "$1"); do ln -s "$2" "$dir/nfcapd.$(printf %04d "$i")"; done
    nfdump -R "$dir" -y -w "$3" 2>/dev/null
}
mkdir -p "$work/fixtures"
for f in tests/data/nfcapd/*.nfcapd; do ln -s "$PWD/$f" "$work/fixtures/"; done
nfdump -R "$work/fixtures" -y -w "$work/f0" 2>/dev/null
merge 64 "$work/f0" "$work/f1"
merge 45 "$work/f1" "$work/big"
rm -f "$work/f0" "$work/f1"
big="$work/big"
records=$("$ours" sql -q --format csv -c "SELECT count(*) FROM nfcapd('$big')" | tail -1)
echo "file: $(du -h "$big" | cut -f1), $records records, LZ4 (nfdump $(nfdump -V | sed 's/.*Version: //'))"
echo "ours:   $("$ours" sql -q --format csv -c "SELECT sum(aggs), sum(packets), sum(octets) FROM nfcapd('$big')" | tail -1)"
echo "nfdump: $(nfdump -r "$big" -I | awk -F': ' '/^(Flows|Packets|Bytes):/{printf "%s ", $2}')"

time_it() { # prints seconds of one run of "$@"
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{v[NR]=$1} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "%.3f", m}'; }

sql="SELECT count(*), sum(packets), sum(octets) FROM nfcapd('$big')"
# nfdump 1.7 reads and decompresses on a thread of its own, so its default run uses both cores;
# `taskset -c 0` pins a whole process (every thread) to one core for the one-core comparison.
one_core=(taskset -c 0)
command -v taskset >/dev/null || { echo "taskset missing: one-core runs are not pinned" >&2; one_core=(); }
declare -A runs
for r in $(seq 1 "$reps"); do
    runs[nfdump]+="$(time_it nfdump -r "$big" -q -s proto) "
    runs[nfdump_1core]+="$(time_it "${one_core[@]}" nfdump -r "$big" -q -s proto) "
    runs[ours_1core]+="$(time_it "${one_core[@]}" "$ours" sql -q -c "SET datafusion.execution.target_partitions = 1" -c "$sql") "
    runs[ours2]+="$(time_it "$ours" sql -q -c "SET datafusion.execution.target_partitions = 2" -c "$sql") "
done
med() { echo "${runs[$1]}" | tr ' ' '\n' | grep . | median; }
n=$(med nfdump); n1=$(med nfdump_1core); o1=$(med ours_1core); o2=$(med ours2)
echo "median of $reps runs (seconds):"
printf "  nfdump -r F -q -s proto (2 threads)        %s\n" "$n"
printf "  nfdump, pinned to one core                 %s\n" "$n1"
printf "  flow-models sql, pinned to one core        %s   (nfdump one core / ours = %.2fx)\n" "$o1" "$(echo "$n1 / $o1" | bc -l)"
printf "  flow-models sql, 2 partitions              %s   (nfdump / ours = %.2fx; nfdump one core / ours = %.2fx; ours one core / two = %.2fx)\n" \
    "$o2" "$(echo "$n / $o2" | bc -l)" "$(echo "$n1 / $o2" | bc -l)" "$(echo "$o1 / $o2" | bc -l)"

# The top talkers of one net (issue 25): nfdump's `-s srcip/bytes -n 10 'src net …'` against
# ip_in_net + GROUP BY src_ip on the same file, answers compared (address and bytes).
net=10.0.0.0/8
talkers="SELECT src_ip, sum(octets) AS bytes FROM nfcapd('$big') WHERE ip_in_net(src_ip, '$net') GROUP BY src_ip ORDER BY bytes DESC, src_ip LIMIT 10"
theirs=$(nfdump -r "$big" -q -s srcip/bytes -n 10 -o csv "src net $net" | awk -F, 'NR > 1 && NF > 5 {print $5 "," $10}')
mine=$("$ours" sql -q --format csv -c "$talkers" | tail -n +2)
[ "$theirs" = "$mine" ] && same=yes || same=NO
for r in $(seq 1 "$reps"); do
    runs[top_nfdump]+="$(time_it nfdump -r "$big" -q -s srcip/bytes -n 10 "src net $net") "
    runs[top_ours]+="$(time_it "$ours" sql -q -c "$talkers") "
done
tn=$(med top_nfdump); to=$(med top_ours)
printf "  top 10 src_ip by bytes in %s: nfdump %s, ours %s (nfdump / ours = %.2fx; same answer: %s)\n" \
    "$net" "$tn" "$to" "$(echo "$tn / $to" | bc -l)" "$same"
