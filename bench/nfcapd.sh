#!/usr/bin/env bash
# nfcapd read speed (issue 22): flow-models' native decoder (release build, 1 and 2 partitions)
# against nfdump reading and aggregating the same flows, in one run, medians: count + sums over
# one ≥ 5 M-record file as LZ4, LZO, BZ2, uncompressed and ZSTD (ours alone: Debian's nfdump
# neither writes nor reads ZSTD; the file is the LZ4 one recompressed by the tests' re-writer,
# the example `nfcapd_recompress`); over a collector's day (288 files in
# yyyy/mm/dd folders); the day's top 10 5-tuples by bytes (`nfdump -s record/bytes`, answers
# compared); the top talkers of a net. The files are made by nfdump itself: the fixtures merged
# into one file, that file merged 64 times, the result 45 times (`nfdump -R dir -y -w`;
# directories of symlinks, so nothing big is copied but the file).
# Usage: bench/nfcapd.sh [repetitions]   (env WORK=dir for the scratch files, default /tmp;
#        OURS=path of a flow-models binary to use instead of building one, RECOMPRESS=path of
#        the nfcapd_recompress example likewise)
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
work=${WORK:-/tmp}/nfcapd-bench.$$
trap 'rm -rf "$work"' EXIT
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/flow-models/target}"
command -v nfdump >/dev/null || { echo "nfdump not installed: nothing to compare with" >&2; exit 1; }
if [ -z "${OURS:-}" ]; then cargo build -q --release -p flow-cli; fi
ours=${OURS:-$CARGO_TARGET_DIR/release/flow-models}
if [ -z "${RECOMPRESS:-}" ]; then cargo build -q --release -p flow-provider --example nfcapd_recompress; fi
recompress=${RECOMPRESS:-$CARGO_TARGET_DIR/release/examples/nfcapd_recompress}

merge() { # merge <n links to file> <file> <out>
    local dir="$work/links.$3"
    mkdir -p "$dir"
    for i in $(seq 1 "$1"); do ln -s "$2" "$dir/nfcapd.$(printf %04d "$i")"; done
    nfdump -R "$dir" -y -w "$3" 2>/dev/null
}
mkdir -p "$work/fixtures"
for f in tests/data/nfcapd/*.nfcapd; do ln -s "$PWD/$f" "$work/fixtures/"; done
nfdump -R "$work/fixtures" -y -w "$work/f0" 2>/dev/null
cp "$work/f0" "$work/fixtures.all"
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

# nfdump 1.7 reads and decompresses on a thread of its own, so its default run uses both cores;
# `taskset -c 0` pins a whole process (every thread) to one core for the one-core comparison.
one_core=(taskset -c 0)
command -v taskset >/dev/null || { echo "taskset missing: one-core runs are not pinned" >&2; one_core=(); }
declare -A runs
med() { echo "${runs[$1]}" | tr ' ' '\n' | grep . | median; }
ratio() { echo "$1 / $2" | bc -l; }

# compare LABEL NFDUMP_ARGS SQL: nfdump (its 2 threads, and pinned to one core) against our
# `sql` (one partition pinned to one core, and 2 partitions) on the same input; one line.
compare() {
    local label=$1 nf=$2 q=$3 r n n1 o1 o2
    for r in $(seq 1 "$reps"); do
        runs[$label.n]+="$(time_it nfdump $nf) "
        runs[$label.n1]+="$(time_it "${one_core[@]}" nfdump $nf) "
        runs[$label.o1]+="$(time_it "${one_core[@]}" "$ours" sql -q -c "SET datafusion.execution.target_partitions = 1" -c "$q") "
        runs[$label.o2]+="$(time_it "$ours" sql -q -c "SET datafusion.execution.target_partitions = 2" -c "$q") "
    done
    n=$(med "$label.n"); n1=$(med "$label.n1"); o1=$(med "$label.o1"); o2=$(med "$label.o2")
    printf "  %-28s nfdump %s / 1 core %s; ours 1 core %s (%.2fx), 2 partitions %s (%.2fx)\n" \
        "$label" "$n" "$n1" "$o1" "$(ratio "$n1" "$o1")" "$o2" "$(ratio "$n" "$o2")"
}

# The same flows in every compression nfdump 1.7.1 writes (Debian's cannot write ZSTD).
for c in lzo:-z bz2:-j none:; do
    nfdump -r "$big" ${c#*:} -w "$work/big.${c%%:*}" 2>/dev/null
done
"$recompress" "$big" "$work/big.zstd" zstd
# A collector's day: 288 five-minute files of about 17 000 records (the fixtures merged 8
# times), in nfcapd's yyyy/mm/dd folders (symlinks of one file: only the names differ).
merge 8 "$work/fixtures.all" "$work/f8"
day=$work/day
mkdir -p "$day/2024/06/01"
for h in $(seq -w 0 23); do
    for m in 00 05 10 15 20 25 30 35 40 45 50 55; do
        ln -s "$work/f8" "$day/2024/06/01/nfcapd.20240601$h$m"
    done
done
day_records=$("$ours" sql -q --format csv -c "SELECT count(*) FROM nfcapd('$day/')" | tail -1)
echo "day: 288 files of $(du -hL "$work/f8" | cut -f1), $day_records records, LZ4"

echo "median of $reps runs (seconds); (x) = nfdump / ours, one core against one core and 2 against 2:"
sums="SELECT count(*), sum(packets), sum(octets) FROM nfcapd"
compare "count+sums, LZ4 file" "-r $big -q -s proto" "$sums('$big')"
for c in lzo bz2 none; do
    compare "count+sums, ${c^^} file" "-r $work/big.$c -q -s proto" "$sums('$work/big.$c')"
done
for r in $(seq 1 "$reps"); do
    runs[zstd.o1]+="$(time_it "${one_core[@]}" "$ours" sql -q -c "SET datafusion.execution.target_partitions = 1" -c "$sums('$work/big.zstd')") "
    runs[zstd.o2]+="$(time_it "$ours" sql -q -c "SET datafusion.execution.target_partitions = 2" -c "$sums('$work/big.zstd')") "
done
printf "  %-28s nfdump cannot read it; ours 1 core %s, 2 partitions %s (%s, same sums as LZ4: %s)\n" \
    "count+sums, ZSTD file" "$(med zstd.o1)" "$(med zstd.o2)" "$(du -h "$work/big.zstd" | cut -f1)" \
    "$([ "$("$ours" sql -q --format csv -c "$sums('$work/big.zstd')")" = "$("$ours" sql -q --format csv -c "$sums('$big')")" ] && echo yes || echo NO)"
compare "count+sums, day of 288" "-R $day -q -s proto" "$sums('$day/')"

# The top 10 of the day's 5-tuples by bytes (nfdump -s record/bytes): the query of ISSUES.md
# timed; the answer compared as text (address, ports, protocol, bytes), as a set.
tuple="sa0, sa1, sa2, sa3, da0, da1, da2, da3, sp, dp, prot"
topn="SELECT $tuple, min(first), max(last), sum(packets), sum(octets) FROM nfcapd('$day/') GROUP BY $tuple ORDER BY sum(octets) DESC, $tuple LIMIT 10"
compare "top 10 5-tuples, day" "-R $day -q -s record/bytes -n 10" "$topn"
theirs=$(nfdump -R "$day" -q -s record/bytes -n 10 -o csv | awk -F, 'NF > 12 {p = $8 == "TCP" ? 6 : $8 == "UDP" ? 17 : $8 == "ICMP" ? 1 : $8; print $4 "," $5 "," $6 "," $7 "," p "," $13}' | sort)
mine=$("$ours" sql -q --format csv -c "SELECT src_ip, dst_ip, sp, dp, prot, sum(octets) AS b FROM nfcapd('$day/') GROUP BY src_ip, dst_ip, sp, dp, prot ORDER BY b DESC LIMIT 10" | tail -n +2 | sort)
[ "$theirs" = "$mine" ] && echo "  top 10: the same answer as nfdump" || printf "  top 10 differ (ties at the cut?):\n nfdump:\n%s\n ours:\n%s\n" "$theirs" "$mine"

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
