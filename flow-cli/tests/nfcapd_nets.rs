//! `ip_in_net(src_ip | dst_ip, 'net')` answered inside the nfcapd scan (the decoder tests the
//! address words, as nfdump's `src net` filter does): on every fixture and for nets of both
//! families, on either side, alone and with other filters, the scan's answer equals the same
//! query that cannot be pushed down (`ip_in_net` on a copy of the text), and `EXPLAIN` shows
//! the net taken and no filter of DataFusion's for it.

mod common;

use common::{ok, repo};

const FIXTURES: &[&str] = &[
    "nf1622_sfipfix_mixed_bz2.nfcapd",
    "nf1622_sfv5_mixed_lzo.nfcapd",
    "nf171_agg_srcip_lz4.nfcapd",
    "nf171_conv_from_1622_bz2.nfcapd",
    "nf171_nfpcapd_small_lz4.nfcapd",
    "nf171_sfipfix_mixed_lzo.nfcapd",
    "nfgen/nf17latest_nfgen.nfcapd",
];

const NETS: &[&str] = &[
    "10.0.0.0/8",
    "192.168.0.0/16",
    "172.16.0.0/12",
    "0.0.0.0/0",
    "2001:db8::/32",
    "fe80::/10",
    "::/0",
    "10.0.0.1",
];

fn answer(file: &str, filter: &str) -> String {
    let q = format!(
        "SELECT count(*), sum(octets), count(DISTINCT src_ip), count(DISTINCT dst_ip), \
         min(src_ip), max(dst_ip) FROM nfcapd('{file}') WHERE {filter}"
    );
    ok(&["sql", "-q", "--format", "csv", "-c", &q])
}

#[test]
fn nets_answered_by_the_scan_equal_ip_in_net_on_the_text() {
    let mut matched = 0;
    for name in FIXTURES {
        let file = repo(&format!("tests/data/nfcapd/{name}"));
        for net in NETS {
            for side in ["src_ip", "dst_ip"] {
                let pushed = format!("ip_in_net({side}, '{net}')");
                let text = format!("ip_in_net(concat({side}, ''), '{net}')");
                let want = answer(&file, &text);
                assert_eq!(answer(&file, &pushed), want, "{name}: {pushed}");
                matched += want
                    .lines()
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap();
                // With another net and another filter.
                let both = format!("{pushed} AND ip_in_net(src_ip, '0.0.0.0/1') AND sp > 100");
                let both_text =
                    format!("{text} AND ip_in_net(concat(src_ip, ''), '0.0.0.0/1') AND sp > 100");
                assert_eq!(
                    answer(&file, &both),
                    answer(&file, &both_text),
                    "{name}: {both}"
                );
            }
        }
    }
    assert!(matched > 3000, "{matched} records matched in all");
    let file = repo("tests/data/nfcapd/nf171_sfipfix_mixed_lzo.nfcapd");
    let q = format!(
        "EXPLAIN SELECT count(*) FROM nfcapd('{file}') \
         WHERE ip_in_net(src_ip, '10.0.0.1/8') AND ip_in_net(dst_ip, '2001:db8::/32')"
    );
    let plan = ok(&["sql", "-q", "-c", &q]);
    assert!(
        plan.contains("nets=[src_ip in 10.0.0.0/8, dst_ip in 2001:db8::/32]"),
        "{plan}"
    );
    assert!(!plan.contains("FilterExec"), "{plan}");
}
