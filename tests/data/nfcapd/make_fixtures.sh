#!/usr/bin/env bash
# Re-makes what the nfcapd tests compare against, with the real nfdump versions:
#   F.expected.txt    TZ=UTC nfdump -r F -q -N -o pipe   (by the version that wrote F)
#   F.stat.txt        nfdump -r F -I
#   F.csv.txt         TZ=UTC nfdump -r F -q -o csv         (nfdump 1.7.1: addresses as text)
#   F.fmt.txt         aggs|out pkts|out bytes|in if|out if (nfdump 1.7.1)
#   nf1622_*.expected171.txt   the 1.6 files as printed by nfdump 1.7.1
# and the two files derived with nfdump 1.7.1 (a 1.6 -> 1.7 conversion, an aggregation).
# The other .nfcapd files are the shared samples (see README.md). nfdump 1.6.22 is taken from
# $NFDUMP16_PREFIX (default ~/.cache/flow-models/nfdump-1.6.22, unpacked by .ci/setup).
set -euo pipefail
cd "$(dirname "$0")"
nf17=nfdump
nf16="${NFDUMP16_PREFIX:-$HOME/.cache/flow-models/nfdump-1.6.22}/usr/bin/nfdump"
fmt='fmt:%fl|%opkt|%obyt|%in|%out'

rm -f nf171_conv_from_1622_bz2.nfcapd nf171_agg_srcip_lz4.nfcapd
$nf17 -r nf1622_sfv5_mixed_none.nfcapd -j -w nf171_conv_from_1622_bz2.nfcapd 2>/dev/null
$nf17 -r nf1622_sfipfix_mixed_bz2.nfcapd -a -A srcip,proto -y -w nf171_agg_srcip_lz4.nfcapd 2>/dev/null

for f in *.nfcapd; do
    case $f in nf1622_*) nf=$nf16 ;; *) nf=$nf17 ;; esac
    TZ=UTC $nf -r "$f" -q -N -o pipe 2>/dev/null >"$f.expected.txt"
    $nf -r "$f" -I 2>/dev/null >"$f.stat.txt"
    TZ=UTC $nf17 -r "$f" -q -o csv 2>/dev/null >"$f.csv.txt"
done
for f in nf1622_sfv5_mixed_lzo.nfcapd nf1622_sfipfix_mixed_bz2.nfcapd; do
    TZ=UTC $nf17 -r "$f" -q -N -o pipe 2>/dev/null >"$f.expected171.txt"
done
for f in nf171_conv_from_1622_bz2.nfcapd nf171_agg_srcip_lz4.nfcapd; do
    TZ=UTC $nf17 -r "$f" -q -N -o "$fmt" 2>/dev/null >"$f.fmt.txt"
done
