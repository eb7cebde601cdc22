// Bad-input tests: empty/truncated files, wrong magic, absurd block sizes, corrupt compressed
// blocks, decompression bombs, and a deterministic mutation fuzz (no panic, ever).
mod nfcapd_common;

use nfcapd_common::*;
use nfcapd_decode::{Compression, Projection, decode_file, read_header};

fn strict(bytes: &[u8]) -> Result<usize, nfcapd_decode::NfError> {
    decode_file(bytes, &Projection::all(), false).map(|(c, _)| c.rows)
}

#[test]
fn empty_file() {
    let e = strict(&[]).unwrap_err();
    assert!(e.to_string().contains("empty file"), "{e}");
    assert_eq!(e.offset, 0);
}

#[test]
fn wrong_magic() {
    let mut b = load("nf171_nfpcapd_small_none.nfcapd");
    b[0] = 0x0d;
    let e = read_header(&b).unwrap_err().with_file("x.nfcapd");
    assert_eq!(
        e.to_string(),
        "nfcapd file x.nfcapd: at byte offset 0: bad magic 0xA50D, expected 0xA50C"
    );
    let mut b = load("nf1622_sfv5_mixed_none.nfcapd");
    b[2] = 7;
    assert!(
        strict(&b)
            .unwrap_err()
            .to_string()
            .contains("unsupported layout version 7")
    );
}

#[test]
fn truncated_files_error_with_position() {
    for name in FIXTURES {
        let b = load(name);
        let info = read_header(&b).unwrap();
        let first = info.first_block_offset as usize;
        // inside the header
        assert!(strict(&b[..first - 3]).is_err(), "{name}");
        // inside the first block header and payload: block 0 at its offset
        for cut in [first + 5, first + 40, b.len() - 1] {
            let e = strict(&b[..cut]).unwrap_err();
            let msg = e.to_string();
            if info.appendix_blocks > 0 && cut as u64 <= info.appendix_offset {
                // layout 2: the appendix offset now lies outside the file
                assert!(msg.contains("appendix offset"), "{name} {cut}: {msg}");
            } else if cut > first + 12 + 100 && info.num_blocks == 1 && info.appendix_blocks > 0 {
                assert!(
                    msg.contains("appendix") || msg.contains("block"),
                    "{name} {cut}: {msg}"
                );
            } else {
                assert_eq!(e.block, Some(0), "{name} {cut}: {msg}");
                assert_eq!(e.offset, first as u64, "{name} {cut}: {msg}");
                assert!(msg.contains("block 0 at byte offset"), "{msg}");
            }
        }
    }
}

#[test]
fn absurd_block_size() {
    let mut b = load("nf1622_sfv5_mixed_none.nfcapd");
    b[276 + 4..276 + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let e = strict(&b).unwrap_err();
    assert_eq!((e.block, e.offset), (Some(0), 276));
    assert!(e.reason.contains("corrupt block size 4294967280"), "{e}");
    // zero records / zero size
    let mut b = load("nf171_nfpcapd_small_none.nfcapd");
    b[40..44].copy_from_slice(&0u32.to_le_bytes());
    assert!(strict(&b).unwrap_err().reason.contains("0 records"));
}

#[test]
fn corrupt_compressed_blocks() {
    for name in [
        "nf171_nfpcapd_small_lz4.nfcapd",
        "nf171_sfipfix_mixed_lzo.nfcapd",
        "nf1622_sfipfix_mixed_bz2.nfcapd",
        "nf1622_sfv5_mixed_lzo.nfcapd",
    ] {
        let mut b = load(name);
        let info = read_header(&b).unwrap();
        let p = info.first_block_offset as usize + 12;
        for x in &mut b[p..p + 24] {
            *x = 0xff;
        }
        let e = strict(&b).unwrap_err().with_file(name);
        assert_eq!(e.block, Some(0), "{e}");
        assert_eq!(e.offset, info.first_block_offset, "{e}");
        assert!(
            e.to_string().starts_with(&format!(
                "nfcapd file {name}: block 0 at byte offset {}: ",
                info.first_block_offset
            )),
            "{e}"
        );
        // skip_corrupt: Ok, with the bad block counted
        let (c, st) = decode_file(&b, &Projection::all(), true).unwrap();
        assert_eq!(st.blocks_corrupt, 1, "{name}");
        assert_eq!(c.rows as u32, 0);
        assert!(st.first_error.is_some());
    }
}

#[test]
fn corrupt_record_sizes() {
    // record size 0 in an uncompressed block
    let mut b = load("nf171_nfpcapd_small_none.nfcapd");
    b[52 + 2..52 + 4].copy_from_slice(&0u16.to_le_bytes());
    let e = strict(&b).unwrap_err();
    assert!(e.reason.contains("invalid size 0"), "{e}");
    // record overrunning the block
    let mut b = load("nf1622_sfv5_mixed_none.nfcapd");
    b[288 + 2..288 + 4].copy_from_slice(&0xfff0u16.to_le_bytes());
    let e = strict(&b).unwrap_err();
    assert!(e.reason.contains("overruns block"), "{e}");
}

#[test]
fn decompression_bomb_is_capped() {
    // a layout 2 file whose single block inflates to 6 MiB (> 5 MiB cap)
    let orig = load("nf171_nfpcapd_small_none.nfcapd");
    let mut b = orig[..40].to_vec();
    b[16] = Compression::Zstd.to_v2();
    b[18..20].copy_from_slice(&0u16.to_le_bytes()); // no appendix
    let bomb = zstd::bulk::compress(&vec![0u8; 6 << 20], 3).unwrap();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&(bomb.len() as u32).to_le_bytes());
    b.extend_from_slice(&3u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&bomb);
    let e = strict(&b).unwrap_err();
    assert_eq!(e.block, Some(0));
    assert!(e.reason.contains("ZSTD"), "{e}");
    // same with LZ4 payload claiming huge output: lz4 can't exceed its output buffer
    let lz = lz4_flex::block::compress(&vec![0u8; 6 << 20]);
    let mut b2 = b[..40].to_vec();
    b2[16] = Compression::Lz4.to_v2();
    b2.extend_from_slice(&1u32.to_le_bytes());
    b2.extend_from_slice(&(lz.len() as u32).to_le_bytes());
    b2.extend_from_slice(&3u16.to_le_bytes());
    b2.extend_from_slice(&0u16.to_le_bytes());
    b2.extend_from_slice(&lz);
    assert!(strict(&b2).is_err());
}

#[test]
fn mutation_fuzz_never_panics() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut fixtures: Vec<(String, Vec<u8>)> =
        FIXTURES.iter().map(|n| (n.to_string(), load(n))).collect();
    fixtures.push((
        "zstd".into(),
        recompress(&load("nf171_nfpcapd_small_none.nfcapd"), Compression::Zstd),
    ));
    for (name, orig) in &fixtures {
        let info = read_header(orig).unwrap();
        let hot = info.first_block_offset as usize + 64; // bias towards headers
        let (mut ok, mut err) = (0, 0);
        // 600 mutations per fixture keep the debug-build suite under ~15 s
        for iter in 0..600 {
            let mut b = orig.clone();
            match iter % 5 {
                0 => b.truncate(rng.below(b.len())),
                1 => {
                    let p = rng.below(hot.min(b.len()));
                    b[p] = rng.next() as u8;
                }
                _ => {
                    for _ in 0..1 + rng.below(4) {
                        let p = rng.below(b.len());
                        b[p] ^= 1 << rng.below(8);
                    }
                }
            }
            for skip in [false, true] {
                match decode_file(&b, &Projection::all(), skip) {
                    Ok((c, _)) => {
                        assert!(c.rows < 1_000_000, "{name}");
                        ok += 1
                    }
                    Err(e) => {
                        assert!(!e.reason.is_empty());
                        err += 1
                    }
                }
            }
        }
        eprintln!("{name}: {ok} ok, {err} err");
    }
}

#[test]
fn failed_block_leaves_output_untouched() {
    use nfcapd_decode::{ExtMaps, FlowColumns, blocks, decode_block};
    let good = load("nf171_sfipfix_mixed_lzo.nfcapd");
    let info = read_header(&good).unwrap();
    let mut out = FlowColumns::default();
    let proj = Projection::all();
    let blk = blocks(&good).unwrap().next().unwrap().unwrap();
    decode_block(&info, &blk, &proj, &mut ExtMaps::new(), &mut out).unwrap();
    let before = out.clone();
    // uncompressed file: break the 6th record's size so the block fails half-way
    let mut bad = load("nf171_nfpcapd_small_none.nfcapd");
    let binfo = read_header(&bad).unwrap();
    let mut pos = 52;
    for _ in 0..5 {
        pos += u16::from_le_bytes([bad[pos + 2], bad[pos + 3]]) as usize;
    }
    bad[pos + 2..pos + 4].copy_from_slice(&3u16.to_le_bytes());
    let blk = blocks(&bad).unwrap().next().unwrap().unwrap();
    let e = decode_block(&binfo, &blk, &proj, &mut ExtMaps::new(), &mut out).unwrap_err();
    assert!(e.reason.contains("record 5"), "{e}");
    assert_eq!(out, before);
}

#[test]
fn corrupt_appendix() {
    let mut b = load("nf171_nfpcapd_small_lz4.nfcapd");
    let info = read_header(&b).unwrap();
    assert!(info.appendix_error.is_none());
    let p = info.appendix_offset as usize + 12;
    for x in &mut b[p..p + 10] {
        *x = 0xee;
    }
    let info = read_header(&b).unwrap();
    assert!(info.stat.is_none());
    let e = info.appendix_error.clone().unwrap();
    assert_eq!(e.offset, info.appendix_offset);
    assert!(e.to_string().contains("appendix"), "{e}");
    assert!(strict(&b).is_err());
    let (c, _) = decode_file(&b, &Projection::all(), true).unwrap();
    assert_eq!(c.rows, 22);
}
