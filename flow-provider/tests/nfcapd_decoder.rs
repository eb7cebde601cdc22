// Fixture tests: every field of every record against nfdump's own pipe output, header and
// stat totals against `nfdump -I`, recompressed variants (ZSTD, BZ2, LZ4), projections and
// block-wise decoding.
mod nfcapd_common;

use nfcapd_common::*;
use nfcapd_decode::{
    Column, Compression, ExtMaps, FlowColumns, Layout, Projection, blocks, decode_block,
    decode_file, read_header,
};

fn assert_matches_expected(name: &str, bytes: &[u8]) {
    let info = read_header(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let (cols, stats) =
        decode_file(bytes, &Projection::all(), false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stats.blocks_corrupt, 0);
    let got = pipe_lines(&cols, info.layout);
    let expected = load_text(&format!("{name}.expected.txt"));
    let expected: Vec<&str> = expected.lines().collect();
    for (i, (g, e)) in got.iter().zip(expected.iter()).enumerate() {
        assert_eq!(g, e, "{name}: line {} differs", i + 1);
    }
    assert_eq!(got.len(), expected.len(), "{name}: record count");
}

#[test]
fn all_fixtures_match_nfdump_pipe_output() {
    for name in FIXTURES {
        assert_matches_expected(name, &load(name));
    }
}

#[test]
fn header_and_stat_match_nfdump_info() {
    for name in FIXTURES {
        let bytes = load(name);
        let info = read_header(&bytes).unwrap();
        let expect = parse_stat(&load_text(&format!("{name}.stat.txt")));
        let s = info
            .stat
            .unwrap_or_else(|| panic!("{name}: no stat record"));
        let num = |k: &str| {
            expect[k]
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{name}: {k}"))
        };
        assert_eq!(
            info.ident.as_deref(),
            Some(expect["Ident"].as_str()),
            "{name}"
        );
        assert_eq!(s.numflows, num("Flows"), "{name}");
        assert_eq!(s.numflows_tcp, num("Flows_tcp"), "{name}");
        assert_eq!(s.numflows_udp, num("Flows_udp"), "{name}");
        assert_eq!(s.numflows_icmp, num("Flows_icmp"), "{name}");
        assert_eq!(s.numflows_other, num("Flows_other"), "{name}");
        assert_eq!(s.numpackets, num("Packets"), "{name}");
        assert_eq!(s.numpackets_tcp, num("Packets_tcp"), "{name}");
        assert_eq!(s.numpackets_udp, num("Packets_udp"), "{name}");
        assert_eq!(s.numpackets_icmp, num("Packets_icmp"), "{name}");
        assert_eq!(s.numpackets_other, num("Packets_other"), "{name}");
        assert_eq!(s.numbytes, num("Bytes"), "{name}");
        assert_eq!(s.numbytes_tcp, num("Bytes_tcp"), "{name}");
        assert_eq!(s.numbytes_udp, num("Bytes_udp"), "{name}");
        assert_eq!(s.numbytes_icmp, num("Bytes_icmp"), "{name}");
        assert_eq!(s.numbytes_other, num("Bytes_other"), "{name}");
        assert_eq!(s.first_seen(), num("First"), "{name}");
        assert_eq!(s.last_seen(), num("Last"), "{name}");
        assert_eq!(s.msec_first(), num("msec_first"), "{name}");
        assert_eq!(s.msec_last(), num("msec_last"), "{name}");
        assert_eq!(s.sequence_failure, num("Sequence failures"), "{name}");

        // the decoded records add up to the header totals
        let (c, _) = decode_file(&bytes, &Projection::all(), false).unwrap();
        let sum = |f: &dyn Fn(usize) -> bool, v: &[u64]| -> u64 {
            (0..c.rows).filter(|&i| f(i)).map(|i| v[i]).sum()
        };
        let all = |_: usize| true;
        let tcp = |i: usize| c.prot[i] == 6;
        let udp = |i: usize| c.prot[i] == 17;
        let icmp = |i: usize| c.prot[i] == 1 || c.prot[i] == 58;
        let flows: u64 = c.aggs.iter().map(|&a| u64::from(a)).sum();
        assert_eq!(flows, s.numflows, "{name}");
        assert_eq!(sum(&all, &c.packets), s.numpackets, "{name}");
        assert_eq!(sum(&all, &c.octets), s.numbytes, "{name}");
        assert_eq!(sum(&tcp, &c.octets), s.numbytes_tcp, "{name}");
        assert_eq!(sum(&udp, &c.packets), s.numpackets_udp, "{name}");
        assert_eq!(sum(&icmp, &c.octets), s.numbytes_icmp, "{name}");
        let first = (0..c.rows)
            .map(|i| u64::from(c.first[i]) * 1000 + u64::from(c.first_ms[i]))
            .min();
        let last = (0..c.rows)
            .map(|i| u64::from(c.last[i]) * 1000 + u64::from(c.last_ms[i]))
            .max();
        assert_eq!(first, Some(s.first_seen_ms), "{name}");
        assert_eq!(last, Some(s.last_seen_ms), "{name}");
    }
}

#[test]
fn header_fields() {
    let info = read_header(&load("nf171_nfpcapd_small_lz4.nfcapd")).unwrap();
    assert_eq!(info.layout, Layout::V2);
    assert_eq!(info.compression, Compression::Lz4);
    assert_eq!(info.nfdversion, Some(0x0107_0100));
    assert!(info.created.is_some());
    assert_eq!(info.first_block_offset, 40);
    assert_eq!(info.appendix_blocks, 1);

    let expect = [
        (
            "nf171_sfipfix_mixed_lzo.nfcapd",
            Layout::V2,
            Compression::Lzo,
        ),
        (
            "nf1622_sfv5_mixed_none.nfcapd",
            Layout::V1,
            Compression::None,
        ),
        ("nf1622_sfv5_mixed_lzo.nfcapd", Layout::V1, Compression::Lzo),
        (
            "nf1622_sfipfix_mixed_bz2.nfcapd",
            Layout::V1,
            Compression::Bz2,
        ),
    ];
    for (name, layout, comp) in expect {
        let info = read_header(&load(name)).unwrap();
        assert_eq!((info.layout, info.compression), (layout, comp), "{name}");
        if layout == Layout::V1 {
            assert_eq!(info.first_block_offset, 276);
            assert!(info.created.is_none());
        }
    }
}

#[test]
fn zstd_recompressed_file_decodes_identically() {
    for name in [
        "nf171_nfpcapd_small_none.nfcapd",
        "nf171_sfipfix_mixed_lzo.nfcapd",
    ] {
        let orig = load(name);
        let z = recompress(&orig, Compression::Zstd);
        let info = read_header(&z).unwrap();
        assert_eq!(info.compression, Compression::Zstd);
        assert_eq!(
            info.stat,
            read_header(&orig).unwrap().stat,
            "{name}: appendix stat"
        );
        assert_matches_expected(name, &z);
    }
}

#[test]
fn other_recompressed_variants_decode_identically() {
    // layout 2 with BZ2 and layout 1 with LZ4 / none, which the fixtures do not cover
    assert_matches_expected(
        "nf171_nfpcapd_small_none.nfcapd",
        &recompress(&load("nf171_nfpcapd_small_none.nfcapd"), Compression::Bz2),
    );
    assert_matches_expected(
        "nf1622_sfv5_mixed_lzo.nfcapd",
        &recompress(&load("nf1622_sfv5_mixed_lzo.nfcapd"), Compression::Lz4),
    );
    assert_matches_expected(
        "nf1622_sfipfix_mixed_bz2.nfcapd",
        &recompress(&load("nf1622_sfipfix_mixed_bz2.nfcapd"), Compression::None),
    );
    // LZO-decoded layout 1 equals the uncompressed original byte for byte after rewriting
    let a = recompress(&load("nf1622_sfv5_mixed_lzo.nfcapd"), Compression::None);
    let b = load("nf1622_sfv5_mixed_none.nfcapd");
    assert_eq!(a, b);
}

#[test]
fn blockwise_decoding_equals_decode_file() {
    for name in FIXTURES {
        let bytes = load(name);
        let info = read_header(&bytes).unwrap();
        let proj = Projection::all();
        let mut maps = ExtMaps::new();
        let mut out = FlowColumns::default();
        let mut n = 0;
        for b in blocks(&bytes).unwrap() {
            n += decode_block(&info, &b.unwrap(), &proj, &mut maps, &mut out).unwrap();
        }
        let (whole, _) = decode_file(&bytes, &proj, false).unwrap();
        assert_eq!(n, whole.rows);
        assert_eq!(out, whole, "{name}");
        if info.layout == Layout::V1 {
            assert!(!maps.is_empty());
        }
    }
}

#[test]
fn projection_builds_only_requested_columns() {
    let bytes = load("nf171_sfipfix_mixed_lzo.nfcapd");
    let proj = Projection::of(&[Column::af, Column::packets]);
    let (c, _) = decode_file(&bytes, &proj, false).unwrap();
    assert_eq!(c.rows, 450);
    assert_eq!(c.af.len(), 450);
    assert_eq!(c.packets.len(), 450);
    assert!(
        c.octets.is_empty() && c.sa0.is_empty() && c.next_hop.is_empty() && c.in_src_mac.is_empty()
    );
    let (c, _) = decode_file(&bytes, &Projection::none(), false).unwrap();
    assert_eq!(c.rows, 450);
    assert!(c.af.is_empty());
    assert!(Projection::from_names(&["sa0", "bogus"]).is_err());
    assert_eq!(
        Projection::from_names(&["sa0"]).unwrap(),
        Projection::of(&[Column::sa0])
    );
    assert_eq!(Column::ALL[0].name(), "af");
    assert_eq!(Column::ALL[20].name(), "aggs");
}

#[test]
fn extra_columns_are_plausible() {
    // softflowd v5 via nfcapd 1.6: aggs 1, exporter set; IPv6 rows only in the IPFIX files
    let (c, _) = decode_file(
        &load("nf1622_sfv5_mixed_none.nfcapd"),
        &Projection::all(),
        false,
    )
    .unwrap();
    assert!(c.aggs.iter().all(|&a| a == 1));
    assert!(c.af.iter().all(|&a| a == 2));
    let (c, _) = decode_file(
        &load("nf171_sfipfix_mixed_lzo.nfcapd"),
        &Projection::all(),
        false,
    )
    .unwrap();
    assert!(c.af.contains(&10));
    assert!(c.aggs.iter().all(|&a| a >= 1));
}

#[test]
fn multi_block_files_decode_identically() {
    // the fixtures hold a single data block each; regroup their records into many blocks
    // (layout 1: extension maps are only in the first block, later blocks depend on them)
    for name in FIXTURES {
        let bytes = load(name);
        let layout = read_header(&bytes).unwrap().layout;
        let other = if layout == Layout::V2 {
            Compression::Zstd
        } else {
            Compression::Lz4
        };
        for (comp, k) in [(Compression::None, 7), (other, 13), (Compression::Bz2, 3)] {
            let split = rewrite(&bytes, comp, Some(k));
            let info = read_header(&split).unwrap();
            assert!(info.num_blocks > 1, "{name}");
            assert_matches_expected(name, &split);
        }
    }
}

#[test]
fn layout1_blocks_need_maps_from_earlier_blocks() {
    let split = rewrite(
        &load("nf1622_sfv5_mixed_none.nfcapd"),
        Compression::None,
        Some(10),
    );
    let info = read_header(&split).unwrap();
    let mut all = blocks(&split).unwrap();
    let first = all.next().unwrap().unwrap();
    let second = all.next().unwrap().unwrap();
    assert_eq!(second.index, 1);
    let proj = Projection::all();
    // decoding block 1 alone: its records reference a map defined in block 0 -> skipped,
    // exactly like nfdump ("Missing extension map. Skip record.")
    let mut out = FlowColumns::default();
    let mut st = nfcapd_decode::DecodeStats::default();
    let mut scratch = Vec::new();
    let n = nfcapd_decode::decode_block_with(
        &info,
        &second,
        &proj,
        &mut ExtMaps::new(),
        &mut out,
        &mut scratch,
        &mut st,
    )
    .unwrap();
    assert_eq!(n, 0);
    assert_eq!(st.records_missing_map, 10);
    // with the maps collected from block 0 it decodes
    let mut maps = ExtMaps::new();
    decode_block(&info, &first, &proj, &mut maps, &mut out).unwrap();
    assert_eq!(
        decode_block(&info, &second, &proj, &mut maps, &mut out).unwrap(),
        10
    );
}

#[test]
fn skip_corrupt_continues_after_bad_block() {
    let split = rewrite(
        &load("nf171_sfipfix_mixed_lzo.nfcapd"),
        Compression::Lz4,
        Some(100),
    );
    let info = read_header(&split).unwrap();
    let b1 = blocks(&split).unwrap().nth(1).unwrap().unwrap();
    let mut bad = split.clone();
    let p = b1.offset as usize + 12;
    for x in &mut bad[p..p + 8] {
        *x = 0xff;
    }
    let e = decode_file(&bad, &Projection::all(), false).unwrap_err();
    assert_eq!((e.block, e.offset), (Some(1), b1.offset), "{e}");
    let (c, st) = decode_file(&bad, &Projection::all(), true).unwrap();
    assert_eq!(st.blocks_corrupt, 1);
    assert_eq!(st.blocks, u64::from(info.num_blocks));
    assert_eq!(
        c.rows,
        450 - b1.num_records as usize + count_maps_etc(&split, 1)
    );
}

/// Number of non-flow records in block `i` (they do not produce rows).
fn count_maps_etc(bytes: &[u8], i: usize) -> usize {
    let info = read_header(bytes).unwrap();
    let b = blocks(bytes).unwrap().nth(i).unwrap().unwrap();
    let mut out = FlowColumns::default();
    let n = decode_block(
        &info,
        &b,
        &Projection::none(),
        &mut ExtMaps::new(),
        &mut out,
    )
    .unwrap();
    b.num_records as usize - n
}

#[test]
fn aggregated_and_counter_columns_match_nfdump_fmt() {
    for name in [
        "nf171_agg_srcip_lz4.nfcapd",
        "nf171_conv_from_1622_bz2.nfcapd",
    ] {
        let (c, _) = decode_file(&load(name), &Projection::all(), false).unwrap();
        let text = load_text(&format!("{name}.fmt.txt"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), c.rows, "{name}");
        for (i, l) in lines.iter().enumerate() {
            let f: Vec<u64> = l.split('|').map(|x| x.trim().parse().unwrap()).collect();
            let got = [
                u64::from(c.aggs[i]),
                c.out_packets[i],
                c.out_bytes[i],
                u64::from(c.inif[i]),
                u64::from(c.outif[i]),
            ];
            assert_eq!(got.as_slice(), f.as_slice(), "{name} line {}", i + 1);
        }
    }
    let (c, _) = decode_file(
        &load("nf171_agg_srcip_lz4.nfcapd"),
        &Projection::all(),
        false,
    )
    .unwrap();
    assert!(c.aggs.iter().any(|&a| a > 1));
}

#[test]
fn layout1_files_match_nfdump_171_output() {
    // nfdump 1.7.1 reading the 1.6 files prints the same flows in its 22-field format
    for name in [
        "nf1622_sfipfix_mixed_bz2.nfcapd",
        "nf1622_sfv5_mixed_lzo.nfcapd",
    ] {
        let (c, _) = decode_file(&load(name), &Projection::all(), false).unwrap();
        let got = pipe_lines(&c, Layout::V2);
        let text = load_text(&format!("{name}.expected171.txt"));
        let expected: Vec<&str> = text.lines().collect();
        assert_eq!(got, expected, "{name}");
    }
}
