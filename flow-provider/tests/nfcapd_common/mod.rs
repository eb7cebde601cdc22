// Shared test helpers: fixture loading, nfdump pipe-format rendering, stat.txt parsing and a
// file re-writer that recompresses every block with another codec.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;

use arrow::array::{Array, AsArray};
use datafusion::prelude::{SessionConfig, SessionContext};

use nfcapd_decode::{Compression, FlowColumns, Layout, blocks_with, decompress, read_header};

pub const FIXTURES: &[&str] = &[
    "nf171_nfpcapd_small_none.nfcapd",
    "nf171_nfpcapd_small_lz4.nfcapd",
    "nf171_sfipfix_mixed_lzo.nfcapd",
    "nf1622_sfv5_mixed_none.nfcapd",
    "nf1622_sfv5_mixed_lzo.nfcapd",
    "nf1622_sfipfix_mixed_bz2.nfcapd",
    "nf171_conv_from_1622_bz2.nfcapd",
    "nf171_agg_srcip_lz4.nfcapd",
];

pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/nfcapd")
        .join(name)
}

pub fn load(name: &str) -> Vec<u8> {
    std::fs::read(data_path(name)).expect("fixture")
}

pub fn load_text(name: &str) -> String {
    std::fs::read_to_string(data_path(name)).expect("fixture text")
}

/// Render all rows like `nfdump -q -N -o pipe`: 22 fields (1.7, epoch ms) or 24 fields
/// (1.6, seconds and msec split).
pub fn pipe_lines(c: &FlowColumns, layout: Layout) -> Vec<String> {
    (0..c.rows)
        .map(|i| {
            let times = match layout {
                Layout::V2 => format!(
                    "{}|{}",
                    u64::from(c.first[i]) * 1000 + u64::from(c.first_ms[i]),
                    u64::from(c.last[i]) * 1000 + u64::from(c.last_ms[i])
                ),
                Layout::V1 => format!(
                    "{}|{}|{}|{}",
                    c.first[i], c.first_ms[i], c.last[i], c.last_ms[i]
                ),
            };
            format!(
                "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                c.af[i],
                times,
                c.prot[i],
                c.sa0[i],
                c.sa1[i],
                c.sa2[i],
                c.sa3[i],
                c.sp[i],
                c.da0[i],
                c.da1[i],
                c.da2[i],
                c.da3[i],
                c.dp[i],
                c.src_as[i],
                c.dst_as[i],
                c.inif[i],
                c.outif[i],
                c.tcp_flags[i],
                c.tos[i],
                c.packets[i],
                c.octets[i]
            )
        })
        .collect()
}

/// Parse `nfdump -I` output (`Key: value` lines).
pub fn parse_stat(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

pub fn encode(c: Compression, data: &[u8]) -> Vec<u8> {
    match c {
        Compression::None => data.to_vec(),
        Compression::Lz4 => lz4_flex::block::compress(data),
        Compression::Zstd => zstd::bulk::compress(data, 3).expect("zstd"),
        Compression::Bz2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            e.write_all(data).expect("bz2");
            e.finish().expect("bz2")
        }
        Compression::Lzo => panic!("no LZO encoder in tests"),
    }
}

fn push_block(out: &mut Vec<u8>, num_records: u32, btype: u16, flags: u16, payload: &[u8]) {
    out.extend_from_slice(&num_records.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&btype.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Rewrite a file with every block (data and layout 2 appendix) recompressed with `to`,
/// adjusting the header's compression field/flags and appendix offset.
pub fn recompress(bytes: &[u8], to: Compression) -> Vec<u8> {
    rewrite(bytes, to, None)
}

/// Rewrite a file: recompress with `to` and, if `per_block` is given, regroup the records
/// of all data blocks into blocks of at most `per_block` records (updating NumBlocks).
pub fn rewrite(bytes: &[u8], to: Compression, per_block: Option<usize>) -> Vec<u8> {
    let info = read_header(bytes).expect("header");
    let first = info.first_block_offset as usize;
    let mut out = bytes[..first].to_vec();
    match info.layout {
        Layout::V2 => out[16] = to.to_v2(),
        Layout::V1 => {
            let mut flags = u32::from_le_bytes(out[4..8].try_into().unwrap()) & !0x19;
            flags |= match to {
                Compression::None => 0,
                Compression::Lzo => 1,
                Compression::Bz2 => 8,
                Compression::Lz4 => 0x10,
                Compression::Zstd => panic!("layout 1 has no ZSTD"),
            };
            out[4..8].copy_from_slice(&flags.to_le_bytes());
        }
    }
    let mut scratch = Vec::new();
    let mut num_blocks = 0u32;
    for b in blocks_with(bytes, &info) {
        let b = b.expect("block");
        let plain = decompress(info.compression, b.payload, &mut scratch)
            .expect("decompress")
            .to_vec();
        match per_block {
            None => {
                push_block(
                    &mut out,
                    b.num_records,
                    b.block_type,
                    b.flags,
                    &encode(to, &plain),
                );
                num_blocks += 1;
            }
            Some(k) => {
                let mut recs = Vec::new();
                let mut pos = 0;
                for _ in 0..b.num_records {
                    let size =
                        u16::from_le_bytes(plain[pos + 2..pos + 4].try_into().unwrap()) as usize;
                    recs.push(&plain[pos..pos + size]);
                    pos += size;
                }
                for chunk in recs.chunks(k) {
                    let payload: Vec<u8> = chunk.concat();
                    push_block(
                        &mut out,
                        chunk.len() as u32,
                        b.block_type,
                        b.flags,
                        &encode(to, &payload),
                    );
                    num_blocks += 1;
                }
            }
        }
    }
    match info.layout {
        Layout::V1 => out[8..12].copy_from_slice(&num_blocks.to_le_bytes()),
        Layout::V2 => out[36..40].copy_from_slice(&num_blocks.to_le_bytes()),
    }
    if info.layout == Layout::V2 && info.appendix_blocks > 0 {
        let new_off = out.len() as u64;
        let mut off = info.appendix_offset as usize;
        for _ in 0..info.appendix_blocks {
            let nrec = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
            let size = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
            let btype = u16::from_le_bytes(bytes[off + 8..off + 10].try_into().unwrap());
            let flags = u16::from_le_bytes(bytes[off + 10..off + 12].try_into().unwrap());
            let payload = &bytes[off + 12..off + 12 + size];
            let plain = decompress(info.compression, payload, &mut scratch).expect("appendix");
            push_block(&mut out, nrec, btype, flags, &encode(to, plain));
            off += 12 + size;
        }
        out[24..32].copy_from_slice(&new_off.to_le_bytes());
    }
    out
}

/// Deterministic xorshift64 PRNG.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

/// A session with the flow formats installed and `partitions` target partitions.
pub fn context(partitions: usize) -> SessionContext {
    let config = SessionConfig::new().with_target_partitions(partitions);
    let ctx = SessionContext::new_with_config(config);
    flow_provider::register(&ctx).unwrap();
    ctx
}

/// nfdump's `-o pipe` line built in SQL: 1.7 prints epoch ms, 1.6 seconds and ms apart.
pub fn pipe_sql(source: &str, layout: Layout) -> String {
    let times = match layout {
        Layout::V2 => "first * 1000 + first_ms, last * 1000 + last_ms",
        Layout::V1 => "first, first_ms, last, last_ms",
    };
    format!(
        "SELECT concat_ws('|', af, {times}, prot, sa0, sa1, sa2, sa3, sp, da0, da1, da2, da3, dp, \
         src_as, dst_as, inif, outif, tcp_flags, tos, packets, octets) AS line FROM {source}"
    )
}

pub async fn lines(ctx: &SessionContext, sql: &str) -> Vec<String> {
    let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
    let mut out = Vec::new();
    for b in batches {
        let col = b.column(0);
        let col = arrow::compute::cast(col, &arrow::datatypes::DataType::Utf8).unwrap();
        let s = col.as_string::<i32>();
        out.extend((0..s.len()).map(|i| s.value(i).to_string()));
    }
    out
}
