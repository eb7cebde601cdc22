#!/usr/bin/env bash
# Re-makes the nfgen fixtures with nfdump 1.7.8's test generator `nfgen` and that version's
# decode (see README.md). Build the tools first with ./build_nfdump_latest.sh.
#
#   NFDUMP_LATEST_PREFIX  prefix holding bin/nfgen and bin/nfdump (1.7.8)
#                         (default ~/.cache/flow-models/nfdump-1.7-latest)
#   NFDUMP171             Debian nfdump 1.7.1 (default /usr/bin/nfdump)
#
# Files made (F = each .nfcapd file):
#   nf17latest_nfgen.nfcapd       nfgen's dummy_flows.nf as written (uncompressed, 35 records)
#   nf17latest_nfgen_lz4.nfcapd   the same records rewritten by 1.7.8: nfdump -r F -z=lz4 -w G
#   F.raw.txt     TZ=UTC nfdump -r F -o raw                      (1.7.8)
#   F.json.txt    TZ=UTC nfdump -r F -o json                     (1.7.8)
#   F.csv.txt     TZ=UTC nfdump -r F -q -o csv                   (1.7.8)
#   F.fmt.txt     TZ=UTC nfdump -r F -q -N -o 'fmt:%fl|%opkt|%obyt|%in|%out'   (1.7.8)
#   F.stat.txt    nfdump -r F -I                                 (1.7.8)
#   F.expected171.txt  TZ=UTC /usr/bin/nfdump -r F -q -N -o pipe (1.7.1; 1.7.8 has no pipe mode)
#   F.raw171.txt       TZ=UTC /usr/bin/nfdump -r F -o raw        (1.7.1)
#   F.stderr171.txt    what 1.7.1 wrote to stderr for those two (unknown extensions 38/42)
# The .nfcapd files carry their creation time in the file header, so they differ from run to
# run in those bytes only; every .txt file is the same on each run except where noted in
# README.md (json/raw have no clock-dependent parts; -I prints no creation time).
set -euo pipefail
cd "$(dirname "$0")"
PREFIX=${NFDUMP_LATEST_PREFIX:-$HOME/.cache/flow-models/nfdump-1.7-latest}
NFGEN=$PREFIX/bin/nfgen
NFDUMP=$PREFIX/bin/nfdump
NFDUMP171=${NFDUMP171:-/usr/bin/nfdump}

[[ -x $NFGEN && -x $NFDUMP ]] || { echo "no nfgen/nfdump under $PREFIX: run ./build_nfdump_latest.sh" >&2; exit 1; }
"$NFDUMP" -V | grep -q '1\.7\.8' || { echo "need nfdump 1.7.8 in $PREFIX, got: $("$NFDUMP" -V)" >&2; exit 1; }
"$NFDUMP171" -V | grep -q '1\.7\.1' || { echo "need nfdump 1.7.1 at $NFDUMP171, got: $("$NFDUMP171" -V)" >&2; exit 1; }

F=nf17latest_nfgen.nfcapd
G=nf17latest_nfgen_lz4.nfcapd

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# nfgen takes no arguments: it always writes ./dummy_flows.nf, uncompressed, ident TestFlows
# (as in src/test/runprepare.sh, which runs it before the test suite)
(cd "$tmp" && "$NFGEN")
cp "$tmp/dummy_flows.nf" "$F"
rm -f "$G"
"$NFDUMP" -r "$F" -z=lz4 -w "$G"

for f in "$F" "$G"; do
    TZ=UTC "$NFDUMP" -r "$f" -o raw >"$f.raw.txt"
    TZ=UTC "$NFDUMP" -r "$f" -o json >"$f.json.txt"
    TZ=UTC "$NFDUMP" -r "$f" -q -o csv >"$f.csv.txt"
    TZ=UTC "$NFDUMP" -r "$f" -q -N -o 'fmt:%fl|%opkt|%obyt|%in|%out' >"$f.fmt.txt"
    "$NFDUMP" -r "$f" -I >"$f.stat.txt"
    # 1.7.1 does not know element ids 38 and 42: it says so on stderr and goes on
    : >"$f.stderr171.txt"
    rc=0
    TZ=UTC "$NFDUMP171" -r "$f" -q -N -o pipe >"$f.expected171.txt" 2>"$tmp/err" || rc=$?
    { echo "== nfdump 1.7.1 -q -N -o pipe: exit $rc, stderr:"; cat "$tmp/err"; } >>"$f.stderr171.txt"
    rc=0
    TZ=UTC "$NFDUMP171" -r "$f" -o raw >"$f.raw171.txt" 2>"$tmp/err" || rc=$?
    { echo "== nfdump 1.7.1 -o raw: exit $rc, stderr:"; cat "$tmp/err"; } >>"$f.stderr171.txt"
done
# 1.7.1's raw output ends with a timing line (Sys: ... Wall: ...) that changes per run: drop it
for f in "$F" "$G"; do
    sed -i '/^Sys: .*Wall: /d' "$f.raw171.txt"
done
echo "made $F and $G: $(grep -c '^Flow Record' "$F.raw.txt") flow records"
