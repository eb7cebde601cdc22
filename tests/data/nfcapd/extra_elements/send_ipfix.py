#!/usr/bin/env python3
"""Send a fixed set of NetFlow v9 and IPFIX export packets to a collector (nfcapd).

Usage: send_ipfix.py PORT [HOST]      (default HOST 127.0.0.1)

Only the Python 3 standard library is used (struct + socket). Everything sent is
deterministic: same templates, same records, same header times on every run.

Why both protocols: nfdump 1.7.1 decodes the NAT port-block elements (361-364) only in
its NetFlow v9 collector (netflow_v9.c v9TranslationMap); its IPFIX collector (ipfix.c
ipfixTranslationMap) has no entry for them. 1.7.1 has no EXlayer2 / EXipInfo element at
all; the layer-2 and ipInfo information elements are still sent (so a newer collector
would decode them), and 1.7.1 skips them - only vlanId/postVlanId (58/59, and in v9
also dot1qVlanId/postDot1qVlanId 243/254) reach the file, as the 1.7.1 EXvLan element.

Exporters:  NetFlow v9 source_id 1 (templates 256-260) and IPFIX observation domain 2
(templates 300-301). Flow times are absolute milliseconds (elements 152/153).
"""

import socket
import struct
import sys
import time

BASE_MS = 1700000000000  # 2023-11-14 22:13:20 UTC
EXPORT_SECS = BASE_MS // 1000 + 3600

# ---- information elements: (id, length) ----
V4 = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8), (152, 8), (153, 8)]
V6 = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8), (152, 8), (153, 8)]
VLAN = [(58, 2), (59, 2)]                 # vlanId, postVlanId
DOT1Q = [(243, 2), (254, 2)]              # dot1qVlanId, postDot1qVlanId
L2X = [(245, 2), (255, 2),                # dot1qCustomerVlanId, postDot1qCustomerVlanId
       (252, 4), (253, 4),                # ingress/egressPhysicalInterface
       (256, 2), (60, 1)]                 # ethernetType, ipVersion
NAT = [(361, 2), (362, 2), (363, 2), (364, 2)]  # portRangeStart/End/StepSize/NumPorts
IPINFO = [(197, 1), (52, 1), (53, 1)]     # fragmentFlags, minimumTTL, maximumTTL

# template id -> (field list, family)
V9_TEMPLATES = {
    256: (V4 + VLAN + L2X + NAT + IPINFO, 4),   # vlan + nat (+ l2/ipinfo, skipped by 1.7.1)
    257: (V4 + DOT1Q + L2X, 4),                 # vlan via dot1q ids, no nat
    258: (V6 + NAT + IPINFO, 6),                # nat only
    259: (V6 + VLAN, 6),                        # vlan only
    260: (V4, 4),                               # plain
}
IPFIX_TEMPLATES = {
    300: (V4 + VLAN + DOT1Q + L2X + NAT + IPINFO, 4),  # 1.7.1 ipfix: only 58/59 -> EXvLan
    301: (V6 + NAT + IPINFO, 6),                      # 1.7.1 ipfix: nothing extra
}
RECORDS_PER_TEMPLATE = {256: 4, 257: 3, 258: 4, 259: 3, 260: 3, 300: 4, 301: 3}


def encode(value, length):
    if isinstance(value, bytes):
        assert len(value) == length
        return value
    return value.to_bytes(length, "big")


def record_values(tid, i, family):
    """Deterministic values for record i of template tid, keyed by element id."""
    n = tid * 10 + i  # unique per record
    v = {}
    if family == 4:
        v[8] = bytes([10, tid % 256, i, 1])
        v[12] = bytes([192, 168, tid % 256, 10 + i])
    else:
        v[27] = bytes.fromhex("20010db8") + tid.to_bytes(2, "big") + bytes(9) + bytes([i + 1])
        v[28] = bytes.fromhex("20010db8ffff") + bytes(8) + tid.to_bytes(2, "big")
    proto = 6 if i % 2 == 0 else 17
    v[4] = proto
    v[7] = 40000 + n % 1000
    v[11] = [443, 53, 80, 123][i % 4]
    v[2] = 10 + n % 97
    v[1] = v[2] * (60 + i * 100)
    first = BASE_MS + (tid - 256) * 10000 + i * 1000
    v[152] = first
    v[153] = first + 500 + i * 10
    v[58] = 100 + (n % 100)
    v[59] = 200 + (n % 100)
    v[243] = 1100 + (n % 100)
    v[254] = 1200 + (n % 100)
    v[245] = 300 + (n % 100)
    v[255] = 400 + (n % 100)
    v[252] = 1000 + n
    v[253] = 2000 + n
    v[256] = 0x0800 if family == 4 else 0x86DD
    v[60] = family
    v[361] = 1024 * (i + 1) + (tid % 6) * 8192
    v[362] = v[361] + 511
    v[363] = 1
    v[364] = 512
    v[197] = [0x40, 0x20, 0x00, 0x60][i % 4]  # DF, MF, none, DF|MF
    v[52] = 30 + i
    v[53] = 60 + i
    return v


def data_record(fields, values):
    return b"".join(encode(values[fid], flen) for fid, flen in fields)


def template_record(tid, fields):
    out = struct.pack("!HH", tid, len(fields))
    for fid, flen in fields:
        out += struct.pack("!HH", fid, flen)
    return out


def flowset(set_id, body):
    pad = (-len(body)) % 4
    body += b"\x00" * pad
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def v9_packet(seq, count, flowsets, source_id=1):
    hdr = struct.pack("!HHIIII", 9, count, 3600000, EXPORT_SECS, seq, source_id)
    return hdr + b"".join(flowsets)


def ipfix_packet(seq, sets, domain=2):
    body = b"".join(sets)
    hdr = struct.pack("!HHIII", 10, 16 + len(body), EXPORT_SECS, seq, domain)
    return hdr + body


def build_packets():
    pkts = []
    # NetFlow v9: one packet with all templates (one flowset each), then one data packet
    # per template. v9 sequence = packet counter.
    seq = 0
    tsets = [flowset(0, template_record(t, f)) for t, (f, _) in V9_TEMPLATES.items()]
    pkts.append(v9_packet(seq, len(tsets), tsets))
    for tid, (fields, fam) in V9_TEMPLATES.items():
        seq += 1
        n = RECORDS_PER_TEMPLATE[tid]
        body = b"".join(data_record(fields, record_values(tid, i, fam)) for i in range(n))
        pkts.append(v9_packet(seq, n, [flowset(tid, body)]))
    # IPFIX: sequence = number of data records sent before this message.
    seq = 0
    tsets = [flowset(2, template_record(t, f)) for t, (f, _) in IPFIX_TEMPLATES.items()]
    pkts.append(ipfix_packet(seq, tsets))
    for tid, (fields, fam) in IPFIX_TEMPLATES.items():
        n = RECORDS_PER_TEMPLATE[tid]
        body = b"".join(data_record(fields, record_values(tid, i, fam)) for i in range(n))
        pkts.append(ipfix_packet(seq, [flowset(tid, body)]))
        seq += n
    return pkts


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    port = int(sys.argv[1])
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for p in build_packets():
        s.sendto(p, (host, port))
        time.sleep(0.05)
    s.close()


if __name__ == "__main__":
    main()
