//! nfdump 1.7 (layout 2) V3 records (record type 11): a 12-byte header followed by typed
//! elements (`nfxV3.h`); known elements are decoded into a `FlowRow`, all others skipped.
use crate::bytes::{ipv4_addr, ipv4_words, ipv6_addr, ipv6_words, u8_at, u16_at, u32_at, u64_at};
use crate::record::{FlowRow, set};

/// `sizeof(recordHeaderV3_t)`.
const V3_HEADER_SIZE: usize = 12;
const ELEMENT_HEADER_SIZE: usize = 4;

// element ids (nfxV3.h)
const EX_GENERIC_FLOW: u16 = 1;
const EX_IPV4_FLOW: u16 = 2;
const EX_IPV6_FLOW: u16 = 3;
const EX_FLOW_MISC: u16 = 4;
const EX_CNT_FLOW: u16 = 5;
const EX_VLAN: u16 = 6;
const EX_AS_ROUTING: u16 = 7;
const EX_BGP_NEXT_HOP_V4: u16 = 8;
const EX_BGP_NEXT_HOP_V6: u16 = 9;
const EX_IP_NEXT_HOP_V4: u16 = 10;
const EX_IP_NEXT_HOP_V6: u16 = 11;
const EX_IP_RECEIVED_V4: u16 = 12;
const EX_IP_RECEIVED_V6: u16 = 13;
const EX_MPLS_LABEL: u16 = 14;
const EX_MAC_ADDR: u16 = 15;
const EX_AS_ADJACENT: u16 = 16;
const EX_LATENCY: u16 = 17;
const EX_NSEL_COMMON: u16 = 19;
const EX_NSEL_XLATE_IPV4: u16 = 20;
const EX_NSEL_XLATE_IPV6: u16 = 21;
const EX_NSEL_XLATE_PORT: u16 = 22;
const EX_NEL_COMMON: u16 = 25;
const EX_NAT_PORT_BLOCK: u16 = 26;
const EX_VRF: u16 = 36;
const EX_LAYER2: u16 = 38;
const EX_IP_INFO: u16 = 42;

/// Minimum element data length (without the 4-byte element header) needed to decode it.
fn min_len(t: u16) -> usize {
    match t {
        EX_GENERIC_FLOW => 48,
        EX_IPV4_FLOW => 8,
        EX_IPV6_FLOW => 32,
        EX_FLOW_MISC => 12,
        EX_CNT_FLOW => 24,
        EX_VLAN | EX_AS_ROUTING | EX_AS_ADJACENT | EX_NSEL_XLATE_IPV4 | EX_VRF => 8,
        EX_BGP_NEXT_HOP_V4 | EX_IP_NEXT_HOP_V4 | EX_IP_RECEIVED_V4 | EX_NSEL_XLATE_PORT => 4,
        EX_BGP_NEXT_HOP_V6 | EX_IP_NEXT_HOP_V6 | EX_IP_RECEIVED_V6 => 16,
        EX_MPLS_LABEL => 40,
        EX_MAC_ADDR => 32,
        EX_LATENCY => 24,
        EX_NSEL_COMMON => 15,
        EX_NSEL_XLATE_IPV6 => 32,
        EX_NEL_COMMON => 13,
        EX_NAT_PORT_BLOCK => 8,
        EX_LAYER2 => 27,
        EX_IP_INFO => 4,
        _ => 0,
    }
}

/// Decode one V3 record (`rec` = exactly `size` bytes incl. header) into `row`.
/// Errors describe the problem relative to the record start.
pub(crate) fn decode_v3(rec: &[u8], row: &mut FlowRow) -> Result<(), String> {
    let hdr = |o: usize| format!("truncated V3 record header at +{o}");
    let num_elements = u16_at(rec, 4).ok_or_else(|| hdr(4))?;
    row.engine_type = u8_at(rec, 6).ok_or_else(|| hdr(6))?;
    row.engine_id = u8_at(rec, 7).ok_or_else(|| hdr(7))?;
    row.exporter_id = u16_at(rec, 8).ok_or_else(|| hdr(8))?;
    row.af = 2;

    let mut pos = V3_HEADER_SIZE;
    for i in 0..num_elements {
        let (Some(etype), Some(elen)) = (u16_at(rec, pos), u16_at(rec, pos + 2)) else {
            return Err(format!(
                "element {i} header at +{pos} overruns record of {} bytes",
                rec.len()
            ));
        };
        let elen = usize::from(elen);
        if elen < ELEMENT_HEADER_SIZE {
            return Err(format!(
                "element {i} (type {etype}) at +{pos} has length {elen}"
            ));
        }
        let Some(data) = rec.get(pos + ELEMENT_HEADER_SIZE..pos + elen) else {
            return Err(format!(
                "element {i} (type {etype}, length {elen}) at +{pos} overruns record of {} bytes",
                rec.len()
            ));
        };
        if data.len() < min_len(etype) {
            return Err(format!(
                "element {i} (type {etype}) at +{pos} too short: {elen} bytes"
            ));
        }
        decode_element(etype, data, row)
            .ok_or_else(|| format!("element {i} (type {etype}) at +{pos} malformed"))?;
        pos += elen;
    }
    if pos != rec.len() {
        return Err(format!(
            "record size {} != sum of element sizes {pos}",
            rec.len()
        ));
    }
    if row.aggs == 0 {
        row.aggs = 1;
    }
    Ok(())
}

fn sat_u16(v: u32) -> u16 {
    u16::try_from(v).unwrap_or(u16::MAX)
}

/// Decode one element's data (length already checked against `min_len`).
fn decode_element(etype: u16, d: &[u8], row: &mut FlowRow) -> Option<()> {
    match etype {
        EX_GENERIC_FLOW => {
            (row.first, row.first_ms) = FlowRow::split_ms(u64_at(d, 0)?);
            (row.last, row.last_ms) = FlowRow::split_ms(u64_at(d, 8)?);
            row.received_ms = u64_at(d, 16)?;
            row.packets = u64_at(d, 24)?;
            row.octets = u64_at(d, 32)?;
            row.sp = u16_at(d, 40)?;
            row.dp = u16_at(d, 42)?;
            row.prot = u8_at(d, 44)?;
            row.tcp_flags = u8_at(d, 45)?;
            row.fwd_status = u8_at(d, 46)?;
            row.tos = u8_at(d, 47)?;
        }
        EX_IPV4_FLOW => {
            row.af = 2;
            row.set_src(ipv4_words(d, 0)?);
            row.set_dst(ipv4_words(d, 4)?);
        }
        EX_IPV6_FLOW => {
            row.af = 10;
            row.set_src(ipv6_words(d, 0)?);
            row.set_dst(ipv6_words(d, 16)?);
        }
        EX_FLOW_MISC => {
            row.inif = u32_at(d, 0)?;
            row.outif = u32_at(d, 4)?;
            row.src_mask = u8_at(d, 8)?;
            row.dst_mask = u8_at(d, 9)?;
            row.dir = u8_at(d, 10)?;
            row.dst_tos = u8_at(d, 11)?;
            row.biflow_dir = u8_at(d, 12).unwrap_or(0);
            row.flow_end_reason = u8_at(d, 13).unwrap_or(0);
        }
        EX_CNT_FLOW => {
            row.aggs = u32::try_from(u64_at(d, 0)?).unwrap_or(u32::MAX);
            row.out_packets = u64_at(d, 8)?;
            row.out_bytes = u64_at(d, 16)?;
        }
        EX_VLAN => {
            row.src_vlan = sat_u16(u32_at(d, 0)?);
            row.dst_vlan = sat_u16(u32_at(d, 4)?);
        }
        EX_AS_ROUTING => {
            row.src_as = u32_at(d, 0)?;
            row.dst_as = u32_at(d, 4)?;
        }
        EX_BGP_NEXT_HOP_V4 => row.bgp_next_hop = ipv4_addr(d, 0)?,
        EX_BGP_NEXT_HOP_V6 => row.bgp_next_hop = ipv6_addr(d, 0)?,
        EX_IP_NEXT_HOP_V4 => row.next_hop = ipv4_addr(d, 0)?,
        EX_IP_NEXT_HOP_V6 => row.next_hop = ipv6_addr(d, 0)?,
        EX_IP_RECEIVED_V4 => row.router_ip = ipv4_addr(d, 0)?,
        EX_IP_RECEIVED_V6 => row.router_ip = ipv6_addr(d, 0)?,
        EX_MPLS_LABEL => {
            let mut l = [0u32; 10];
            for (i, v) in l.iter_mut().enumerate() {
                *v = u32_at(d, i * 4)?;
            }
            set!(row.mpls_labels = l);
        }
        EX_MAC_ADDR => {
            set!(row.in_src_mac = u64_at(d, 0)?);
            set!(row.out_dst_mac = u64_at(d, 8)?);
            set!(row.in_dst_mac = u64_at(d, 16)?);
            set!(row.out_src_mac = u64_at(d, 24)?);
        }
        EX_AS_ADJACENT => {
            set!(row.bgp_next_adjacent_as = u32_at(d, 0)?);
            set!(row.bgp_prev_adjacent_as = u32_at(d, 4)?);
        }
        EX_LATENCY => {
            row.set_latency(d)?;
        }
        EX_NSEL_COMMON => {
            set!(row.event_time_ms = u64_at(d, 0)?);
            set!(row.conn_id = u32_at(d, 8)?);
            set!(row.fw_xevent = u16_at(d, 12)?);
            set!(row.fw_event = u8_at(d, 14)?);
        }
        EX_NSEL_XLATE_IPV4 => {
            set!(row.xlate_src_ip = ipv4_addr(d, 0)?);
            set!(row.xlate_dst_ip = ipv4_addr(d, 4)?);
        }
        EX_NSEL_XLATE_IPV6 => {
            set!(row.xlate_src_ip = ipv6_addr(d, 0)?);
            set!(row.xlate_dst_ip = ipv6_addr(d, 16)?);
        }
        EX_NSEL_XLATE_PORT => {
            set!(row.xlate_src_port = u16_at(d, 0)?);
            set!(row.xlate_dst_port = u16_at(d, 2)?);
        }
        EX_NEL_COMMON => {
            set!(row.event_time_ms = u64_at(d, 0)?);
            if d.len() >= 24 {
                // old compat layout (EXnelCommonCompat_t): msecEvent, egressVrf, ingressVrf,
                // natPoolID, natEvent
                set!(row.egress_vrf = u32_at(d, 8)?);
                set!(row.ingress_vrf = u32_at(d, 12)?);
                set!(row.nat_pool_id = u32_at(d, 16)?);
                set!(row.nat_event = u8_at(d, 20)?);
            } else {
                set!(row.nat_pool_id = u32_at(d, 8)?);
                set!(row.nat_event = u8_at(d, 12)?);
            }
        }
        EX_VRF => {
            set!(row.egress_vrf = u32_at(d, 0)?);
            set!(row.ingress_vrf = u32_at(d, 4)?);
        }
        EX_NAT_PORT_BLOCK => {
            set!(row.pblock_start = u16_at(d, 0)?);
            set!(row.pblock_end = u16_at(d, 2)?);
            set!(row.pblock_step = u16_at(d, 4)?);
            set!(row.pblock_size = u16_at(d, 6)?);
        }
        EX_LAYER2 => {
            // On disk: vlan, customer vlan, post vlan, post customer vlan.
            set!(row.vlan_id = u16_at(d, 0)?);
            set!(row.cust_vlan_id = u16_at(d, 2)?);
            set!(row.post_vlan_id = u16_at(d, 4)?);
            set!(row.post_cust_vlan_id = u16_at(d, 6)?);
            set!(row.phys_ingress = u32_at(d, 8)?);
            set!(row.phys_egress = u32_at(d, 12)?);
            set!(row.ethertype = u16_at(d, 24)?);
            set!(row.ip_version = u8_at(d, 26)?);
        }
        EX_IP_INFO => {
            set!(row.ip_fragment = u8_at(d, 1)?);
            set!(row.ip_min_ttl = u8_at(d, 2)?);
            set!(row.ip_max_ttl = u8_at(d, 3)?);
        }
        // Skipped (see the README's list): EXsamplerInfo, EXnselAcl, EXnselUser, EXnbarApp,
        // EXlabel, payloads, tunnels, observation, inmon, pfinfo, flowId, the Nokia NAT
        // elements, EXnull and unknown ids.
        _ => {}
    }
    Some(())
}
