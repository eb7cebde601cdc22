#!/usr/bin/env bash
# Makes nf171_ipfix_l2_nat_ipinfo.nfcapd with the real nfcapd 1.7.1 (Debian package) and
# nfdump 1.7.1's decode of it:
#   F.raw.txt     TZ=UTC nfdump -r F -o raw
#   F.json.txt    TZ=UTC nfdump -r F -o json
#   F.csv.txt     TZ=UTC nfdump -r F -q -o csv
#   F.expected.txt TZ=UTC nfdump -r F -q -N -o pipe   (same convention as ../README.md)
#   F.stat.txt    nfdump -r F -I
# send_ipfix.py sends fixed NetFlow v9 + IPFIX packets to an nfcapd listening on a free
# UDP port of 127.0.0.1; nfcapd is stopped with SIGTERM, which closes and renames its file.
# nfcapd's default (no -z/-y/-j) is used: the data blocks are uncompressed.
# Re-running gives the same records except the "received" time nfcapd stamps on each
# record (EXgenericFlow.msecReceived) and file/stat times, which come from the clock.
set -euo pipefail
cd "$(dirname "$0")"
F=nf171_ipfix_l2_nat_ipinfo.nfcapd
NFCAPD=${NFCAPD:-nfcapd}
NFDUMP=${NFDUMP:-nfdump}

"$NFDUMP" -V | grep -q '1\.7\.1' || { echo "need nfdump 1.7.1, got: $("$NFDUMP" -V)" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_bound() {  # true if something (nfcapd) holds UDP port $1 on 127.0.0.1
    ! python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}

capture() {  # one nfcapd run; leaves exactly one closed nfcapd.* file in $tmp/flows or fails
    rm -rf "$tmp/flows"
    mkdir -p "$tmp/flows"
    local port
    port=$(free_port)
    "$NFCAPD" -b 127.0.0.1 -p "$port" -w "$tmp/flows" -t 3600 -I fixture >"$tmp/nfcapd.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        port_bound "$port" && break
        kill -0 "$pid" 2>/dev/null || { cat "$tmp/nfcapd.log" >&2; return 1; }
        sleep 0.1
    done
    port_bound "$port" || { echo "nfcapd did not bind port $port" >&2; return 1; }
    python3 send_ipfix.py "$port" || return 1
    sleep 1
    kill -TERM "$pid" || return 1
    wait "$pid" || true
    pid=
    local files=("$tmp"/flows/nfcapd.2*)
    [[ ${#files[@]} -eq 1 && -f ${files[0]} ]]  # >1 file: nfcapd rotated during the run
}

ok=
for _ in 1 2 3; do
    if capture; then ok=1; break; fi
done
[[ -n $ok ]] || { echo "capture failed" >&2; cat "$tmp/nfcapd.log" >&2; exit 1; }
cp "$tmp"/flows/nfcapd.2* "$F"

TZ=UTC "$NFDUMP" -r "$F" -o raw >"$F.raw.txt"
TZ=UTC "$NFDUMP" -r "$F" -o json >"$F.json.txt"
TZ=UTC "$NFDUMP" -r "$F" -q -o csv >"$F.csv.txt"
TZ=UTC "$NFDUMP" -r "$F" -q -N -o pipe >"$F.expected.txt"
"$NFDUMP" -r "$F" -I >"$F.stat.txt"
echo "made $F: $(grep -c '^Flow Record' "$F.raw.txt") flow records"
