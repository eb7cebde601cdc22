#!/usr/bin/env bash
# Every memory-limited tool on the 50 M-record trace under --memory-limit 256M (issue 15): each
# must complete (spilling where its operator can) or stop with DataFusion's "Resources
# exhausted" naming the operator, never be killed for memory. Prints each run's exit status,
# time and peak RSS (mapped input pages count in RSS: they are page cache, not pool memory).
#
#   bench/memory_limit.sh     (T50M=... LIMIT=256M; makes T50M with `generate` if missing)
set -uo pipefail
cd "$(dirname "$0")/.."
T50M=${T50M:-/work/bench-data/t50m}
LIMIT=${LIMIT:-256M}
B=${B:-target/release/flow-models}
WORK=$(mktemp -d "$(dirname "$T50M")/memlimit.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
M=flow-udfs/tests/data/mixture/reference/agh_2015061019_IPv4_anon/mixtures/all/length
[ -d "$T50M" ] || "$B" generate -s 50000000 --trace --seed 7 -o binary -O "$T50M" "$M"
run() {
    echo "== ${*:2}"
    /usr/bin/time -f "exit %x, %e s, peak RSS %M KiB" "$B" "$@" 2>&1 | tail -3
}
run hist -x length -b 12 --memory-limit "$LIMIT" -O "$WORK/length.csv" "$T50M"
run hist -x size -b 0 --memory-limit "$LIMIT" -O "$WORK/size.csv" "$T50M"
run merge -I 15 -A 300 -i binary -o binary --memory-limit "$LIMIT" -O "$WORK/merged" "$T50M"
run sort -k sa3 da3 --memory-limit "$LIMIT" --temp-dir "$WORK" -O "$WORK/sorted" "$T50M"
q() { run sql --memory-limit "$LIMIT" -q --format csv -c "$1"; }
q "SELECT dp, count(*) AS n, sum(octets) FROM flowbin('$T50M') GROUP BY dp ORDER BY n DESC LIMIT 3"
q "SELECT sa3, da3, sp, dp, count(*) AS n FROM flowbin('$T50M') GROUP BY sa3, da3, sp, dp ORDER BY n DESC LIMIT 3"
q "SELECT octets, first FROM flowbin('$T50M') ORDER BY octets DESC, first LIMIT 3"
q "SELECT count(*) FROM (SELECT * FROM flowbin('$T50M') ORDER BY sa3, da3, sp, dp)"
