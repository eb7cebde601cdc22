//! nfdump 1.6 (layout 1) records: extension maps (record type 2) and common records (type 10)
//! whose optional extensions are laid out as listed in the referenced map (1.6 `nfx.h`).
use std::collections::HashMap;

use crate::bytes::{
    Cursor, ipv4_addr, ipv4_words, ipv6_addr, ipv6_words, u8_at, u16_at, u32_at, u64_at,
};
use crate::record::{FlowRow, set};

/// `COMMON_RECORD_DATA_SIZE`: common record header before the extension data.
const COMMON_HEADER_SIZE: usize = 32;

const FLAG_IPV6_ADDR: u8 = 1;
const FLAG_PKG_64: u8 = 2;
const FLAG_BYTES_64: u8 = 4;

/// Extension maps seen so far in a layout 1 stream (map id -> extension id list).
/// Maps are defined in-stream and may be redefined; later blocks depend on earlier ones,
/// so layout 1 blocks must be decoded in file order with one `ExtMaps` per file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtMaps {
    maps: HashMap<u16, Vec<u16>>,
}

impl ExtMaps {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty()
    }

    pub fn get(&self, id: u16) -> Option<&[u16]> {
        self.maps.get(&id).map(Vec::as_slice)
    }

    /// Parse an extension map record (`extension_map_t`, whole record incl. header) and
    /// insert/replace it.
    pub(crate) fn insert_record(&mut self, rec: &[u8]) -> Result<(), String> {
        let map_id = u16_at(rec, 4).ok_or("truncated extension map record")?;
        let mut ids = Vec::new();
        let mut pos = 8;
        while let Some(id) = u16_at(rec, pos) {
            if id == 0 {
                break;
            }
            if ext_size(id).is_none() {
                return Err(format!("extension map {map_id}: unknown extension id {id}"));
            }
            ids.push(id);
            pos += 2;
        }
        self.maps.insert(map_id, ids);
        Ok(())
    }
}

/// Data size of a 1.6 optional extension (`extension_descriptor[]`), `None` if unknown.
fn ext_size(id: u16) -> Option<usize> {
    Some(match id {
        1..=3 => 0, // required extensions are never in a map; nfdump ignores them
        4 | 6 | 8 | 9 | 11 | 13 | 14 | 16 | 18 | 23 | 25 => 4,
        5 | 7 | 15 | 17 | 19 | 26 | 27 => 8,
        10 | 12 | 20 | 21 | 24 => 16,
        22 => 40,
        37 => 20,
        38 => 4,
        39 => 8,
        40 => 32,
        41 => 24,
        42 => 24,
        43 => 72,
        45 => 24,
        46 => 12,
        47 => 8,
        48 => 8,
        _ => return None,
    })
}

fn sat_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Decode a common record (type 10, `common_record_t` + extensions) into `row`.
pub(crate) fn decode_common(rec: &[u8], maps: &ExtMaps, row: &mut FlowRow) -> Result<(), String> {
    let short = |what: &str| format!("common record truncated ({what}), size {}", rec.len());
    let flags = u8_at(rec, 4).ok_or_else(|| short("header"))?;
    let map_id = u16_at(rec, 6).ok_or_else(|| short("header"))?;
    let ids = maps
        .get(map_id)
        .ok_or_else(|| format!("missing extension map {map_id}"))?;
    let msec_first = u16_at(rec, 8).ok_or_else(|| short("header"))?;
    let msec_last = u16_at(rec, 10).ok_or_else(|| short("header"))?;
    row.first = u32_at(rec, 12).ok_or_else(|| short("header"))?;
    row.last = u32_at(rec, 16).ok_or_else(|| short("header"))?;
    // nfdump computes first*1000+msec; keep the split form but normalise msec >= 1000
    let (fs, fm) = FlowRow::split_ms(u64::from(row.first) * 1000 + u64::from(msec_first));
    let (ls, lm) = FlowRow::split_ms(u64::from(row.last) * 1000 + u64::from(msec_last));
    (row.first, row.first_ms, row.last, row.last_ms) = (fs, fm, ls, lm);
    row.fwd_status = u8_at(rec, 20).ok_or_else(|| short("header"))?;
    row.tcp_flags = u8_at(rec, 21).ok_or_else(|| short("header"))?;
    row.prot = u8_at(rec, 22).ok_or_else(|| short("header"))?;
    row.tos = u8_at(rec, 23).ok_or_else(|| short("header"))?;
    row.sp = u16_at(rec, 24).ok_or_else(|| short("header"))?;
    row.dp = u16_at(rec, 26).ok_or_else(|| short("header"))?;
    row.exporter_id = u16_at(rec, 28).ok_or_else(|| short("header"))?;
    row.aggs = 1;

    let mut c = Cursor::new(rec, COMMON_HEADER_SIZE);
    // required extension 1: addresses
    if flags & FLAG_IPV6_ADDR != 0 {
        let a = c.take(32).ok_or_else(|| short("IPv6 addresses"))?;
        row.af = 10;
        row.set_src(ipv6_words(a, 0).ok_or_else(|| short("IPv6 addresses"))?);
        row.set_dst(ipv6_words(a, 16).ok_or_else(|| short("IPv6 addresses"))?);
    } else {
        let a = c.take(8).ok_or_else(|| short("IPv4 addresses"))?;
        row.af = 2;
        row.set_src(ipv4_words(a, 0).ok_or_else(|| short("IPv4 addresses"))?);
        row.set_dst(ipv4_words(a, 4).ok_or_else(|| short("IPv4 addresses"))?);
    }
    // required extensions 2 and 3: packet and byte counters, 4 or 8 bytes
    row.packets = if flags & FLAG_PKG_64 != 0 {
        c.u64()
    } else {
        c.u32().map(u64::from)
    }
    .ok_or_else(|| short("packets"))?;
    row.octets = if flags & FLAG_BYTES_64 != 0 {
        c.u64()
    } else {
        c.u32().map(u64::from)
    }
    .ok_or_else(|| short("bytes"))?;

    for &id in ids {
        let size = ext_size(id).ok_or_else(|| format!("unknown extension id {id}"))?;
        let d = c.take(size).ok_or_else(|| {
            format!(
                "extension {id} overruns common record of {} bytes",
                rec.len()
            )
        })?;
        decode_ext(id, d, row).ok_or_else(|| format!("extension {id} malformed"))?;
    }
    if row.aggs == 0 {
        row.aggs = 1;
    }
    Ok(())
}

/// Decode one optional extension (`d` has exactly `ext_size(id)` bytes).
fn decode_ext(id: u16, d: &[u8], row: &mut FlowRow) -> Option<()> {
    match id {
        4 => {
            row.inif = u32::from(u16_at(d, 0)?);
            row.outif = u32::from(u16_at(d, 2)?);
        }
        5 => {
            row.inif = u32_at(d, 0)?;
            row.outif = u32_at(d, 4)?;
        }
        6 => {
            row.src_as = u32::from(u16_at(d, 0)?);
            row.dst_as = u32::from(u16_at(d, 2)?);
        }
        7 => {
            row.src_as = u32_at(d, 0)?;
            row.dst_as = u32_at(d, 4)?;
        }
        8 => {
            row.dst_tos = u8_at(d, 0)?;
            row.dir = u8_at(d, 1)?;
            row.src_mask = u8_at(d, 2)?;
            row.dst_mask = u8_at(d, 3)?;
        }
        9 => row.next_hop = ipv4_addr(d, 0)?,
        10 => row.next_hop = ipv6_addr(d, 0)?,
        11 => row.bgp_next_hop = ipv4_addr(d, 0)?,
        12 => row.bgp_next_hop = ipv6_addr(d, 0)?,
        13 => {
            row.src_vlan = u16_at(d, 0)?;
            row.dst_vlan = u16_at(d, 2)?;
        }
        14 => row.out_packets = u64::from(u32_at(d, 0)?),
        15 => row.out_packets = u64_at(d, 0)?,
        16 => row.out_bytes = u64::from(u32_at(d, 0)?),
        17 => row.out_bytes = u64_at(d, 0)?,
        18 => row.aggs = u32_at(d, 0)?,
        19 => row.aggs = sat_u32(u64_at(d, 0)?),
        20 => {
            set!(row.in_src_mac = u64_at(d, 0)?);
            set!(row.out_dst_mac = u64_at(d, 8)?);
        }
        21 => {
            set!(row.in_dst_mac = u64_at(d, 0)?);
            set!(row.out_src_mac = u64_at(d, 8)?);
        }
        22 => {
            let mut l = [0u32; 10];
            for (i, v) in l.iter_mut().enumerate() {
                *v = u32_at(d, i * 4)?;
            }
            set!(row.mpls_labels = l);
        }
        23 => row.router_ip = ipv4_addr(d, 0)?,
        24 => row.router_ip = ipv6_addr(d, 0)?,
        25 => {
            row.engine_type = u8_at(d, 2)?;
            row.engine_id = u8_at(d, 3)?;
        }
        26 => {
            set!(row.bgp_next_adjacent_as = u32_at(d, 0)?);
            set!(row.bgp_prev_adjacent_as = u32_at(d, 4)?);
        }
        27 => row.received_ms = u64_at(d, 0)?,
        37 => {
            set!(row.event_time_ms = u64_at(d, 0)?);
            set!(row.conn_id = u32_at(d, 8)?);
            set!(row.fw_event = u8_at(d, 14)?);
            set!(row.fw_xevent = u16_at(d, 16)?);
        }
        38 => {
            set!(row.xlate_src_port = u16_at(d, 0)?);
            set!(row.xlate_dst_port = u16_at(d, 2)?);
        }
        39 => {
            set!(row.xlate_src_ip = ipv4_addr(d, 0)?);
            set!(row.xlate_dst_ip = ipv4_addr(d, 4)?);
        }
        40 => {
            set!(row.xlate_src_ip = ipv6_addr(d, 0)?);
            set!(row.xlate_dst_ip = ipv6_addr(d, 16)?);
        }
        45 => {
            row.set_latency(d)?;
        }
        46 => {
            set!(row.nat_event = u8_at(d, 0)?);
            set!(row.egress_vrf = u32_at(d, 4)?);
            set!(row.ingress_vrf = u32_at(d, 8)?);
        }
        // 1..3 (never in maps), 41 ACL, 42/43 username, 47 old NEL IPs, 48 port block: skipped
        _ => {}
    }
    Some(())
}
