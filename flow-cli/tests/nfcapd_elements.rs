//! Every element nfdump 1.7 writes, against nfdump's own JSON of the same file: the records
//! of nfdump 1.7.8's test generator (`nfgen`: 35 records, 23 element types incl. layer 2, the
//! NAT port block and ipInfo; uncompressed and LZ4) and of nfcapd 1.7.1 fed NetFlow v9 / IPFIX
//! with VLANs and NAT port blocks (tests/data/nfcapd/{nfgen,extra_elements}/README.md). Each
//! JSON value a record has equals our column's; a column whose element the record lacks is
//! NULL.

mod common;

use common::{ok, repo};
use serde_json::Value;

/// (nfdump JSON key, our SQL expression giving the same text). Several keys may share a
/// column (IPv4 and IPv6 spellings of one address).
const COLUMNS: &[(&str, &str)] = &[
    ("in_packets", "packets"),
    ("in_bytes", "octets"),
    ("proto", "prot"),
    ("src_port", "sp"),
    ("dst_port", "dp"),
    ("fwd_status", "fwd_status"),
    ("src_tos", "tos"),
    ("dst_tos", "dst_tos"),
    ("src4_addr", "src_ip"),
    ("src6_addr", "src_ip"),
    ("dst4_addr", "dst_ip"),
    ("dst6_addr", "dst_ip"),
    ("input_snmp", "inif32"),
    ("output_snmp", "outif32"),
    ("src_mask", "src_mask"),
    ("dst_mask", "dst_mask"),
    ("direction", "dir"),
    ("out_packets", "out_packets"),
    ("out_bytes", "out_bytes"),
    ("aggr_flows", "aggs"),
    ("src_as", "src_as"),
    ("dst_as", "dst_as"),
    ("src_vlan", "src_vlan"),
    ("dst_vlan", "dst_vlan"),
    ("ip4_next_hop", "next_hop"),
    ("ip6_next_hop", "next_hop"),
    ("bgp4_next_hop", "bgp_next_hop"),
    ("bgp6_next_hop", "bgp_next_hop"),
    ("ip4_router", "router_ip"),
    ("ip6_router", "router_ip"),
    ("next_as", "bgp_next_adjacent_as"),
    ("prev_as", "bgp_prev_adjacent_as"),
    ("nat_pool_id", "nat_pool_id"),
    ("src4_xlt_ip", "xlate_src_ip"),
    ("dst4_xlt_ip", "xlate_dst_ip"),
    ("src_xlt_port", "xlate_src_port"),
    ("dst_xlt_port", "xlate_dst_port"),
    ("mpls", "mpls_text(mpls_labels)"),
    // Layer 2, NAT port block, ipInfo: NULL when the record lacks the element.
    ("vlanID", "vlan_id"),
    ("post_vlanID", "post_vlan_id"),
    ("cust_vlanID", "cust_vlan_id"),
    ("post_cust_vlanID", "post_cust_vlan_id"),
    ("phys_ingress", "phys_ingress"),
    ("phys_egress", "phys_egress"),
    ("ethertype", "ethertype"),
    ("ip_version", "ip_version"),
    ("pblock_start", "pblock_start"),
    ("pblock_end", "pblock_end"),
    ("pblock_step", "pblock_step"),
    ("pblock_size", "pblock_size"),
    (
        "ip_fragment",
        "CASE WHEN ip_fragment IS NOT NULL THEN trim(concat(\
         CASE WHEN ip_fragment & 64 > 0 THEN 'DF ' END, \
         CASE WHEN ip_fragment & 32 > 0 THEN 'MF' END)) END",
    ),
    ("ip_minttl", "ip_min_ttl"),
    ("ip_maxttl", "ip_max_ttl"),
];

/// The columns that are NULL exactly when the record lacks their element (the JSON key).
const NULLABLE_FROM: &str = "vlanID";

/// nfdump's JSON value as our text: numbers as digits (1.7.1 quotes some), the ten
/// `mpls_N` entries as `mpls_text` gives them.
fn json_text(record: &Value, key: &str) -> Option<String> {
    if key == "mpls" {
        let labels: Option<Vec<String>> = (1..=10)
            .map(|i| record.get(format!("mpls_{i}")).map(plain))
            .collect();
        return labels.map(|l| l.join(" "));
    }
    record.get(key).map(plain)
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare(file: &str, records: usize) {
    let path = repo(&format!("tests/data/nfcapd/{file}"));
    let json: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(format!("{path}.json.txt")).unwrap())
            .unwrap();
    assert_eq!(json.len(), records, "{file}");
    let exprs: Vec<String> = COLUMNS
        .iter()
        .enumerate()
        .map(|(i, (_, e))| format!("CAST({e} AS VARCHAR) AS c{i}"))
        .collect();
    let q = format!("SELECT {} FROM nfcapd('{path}')", exprs.join(", "));
    let out = ok(&["sql", "-q", "--format", "nd-json", "-c", &q]);
    let ours: Vec<Value> = out
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ours.len(), records, "{file}");
    let nullable_from = COLUMNS
        .iter()
        .position(|(k, _)| *k == NULLABLE_FROM)
        .unwrap();
    let mut compared = 0;
    for (i, (theirs, row)) in json.iter().zip(&ours).enumerate() {
        for (c, (key, expr)) in COLUMNS.iter().enumerate() {
            let want = json_text(theirs, key);
            // (nd-json leaves NULL values out)
            let got = &row
                .get(format!("c{c}"))
                .and_then(Value::as_str)
                .map(String::from);
            match want {
                Some(w) => {
                    assert_eq!(
                        got.as_deref(),
                        Some(w.as_str()),
                        "{file} record {}: {key} = {expr}",
                        i + 1
                    );
                    compared += 1;
                }
                // A nullable column whose key no spelling of the record has: NULL.
                None if c >= nullable_from
                    && !COLUMNS
                        .iter()
                        .any(|(k, e)| e == expr && theirs.get(*k).is_some()) =>
                {
                    assert_eq!(got, &None, "{file} record {}: {expr} without {key}", i + 1);
                }
                None => {}
            }
        }
    }
    assert!(compared > 250, "{file}: {compared} values compared");
}

#[test]
fn nfgen_records_of_nfdump_1_7_8_equal_its_json() {
    for file in [
        "nfgen/nf17latest_nfgen.nfcapd",
        "nfgen/nf17latest_nfgen_lz4.nfcapd",
    ] {
        compare(file, 35);
    }
    // The new elements are there: layer 2, NAT port block, ipInfo in the last records.
    let path = repo("tests/data/nfcapd/nfgen/nf17latest_nfgen.nfcapd");
    let q = format!(
        "SELECT count(vlan_id), count(pblock_start), count(ip_fragment), max(phys_egress), \
         max(ip_max_ttl) FROM nfcapd('{path}')"
    );
    let out = ok(&["sql", "-q", "--format", "csv", "-c", &q]);
    assert_eq!(out.lines().nth(1), Some("3,2,1,445566,255"), "{out}");
}

#[test]
fn nfcapd_1_7_1_port_blocks_and_vlans_equal_its_json() {
    compare("extra_elements/nf171_ipfix_l2_nat_ipinfo.nfcapd", 24);
}
