//! The decoder's driver: per-block decoding into `FlowColumns` and a whole-file `decode_file`.
//!
//! Parallelism: layout 2 (nfdump 1.7) blocks are self-contained and can be decoded in any
//! order / in parallel (each with its own `ExtMaps`, which stays unused). Layout 1 (nfdump
//! 1.6) defines extension maps in-stream, so a layout 1 file must be decoded sequentially
//! (in block order, one `ExtMaps` per file); parallelise across files instead.
use crate::block::{Blocks, RawBlock};
use crate::bytes::u16_at;
use crate::compress::decompress;
use crate::error::NfError;
use crate::header::{FileInfo, read_header};
use crate::record::{FlowColumns, FlowRow, Projection};
use crate::v1::ExtMaps;
use crate::{v1, v2};

/// Upper bound of a (compressed or decompressed) block, nfdump's `BUFFSIZE` (5 MiB).
pub const MAX_BLOCK_SIZE: usize = 5 * 1024 * 1024;

/// Rows decoded into a block's staging buffer before they are moved to the columns together
/// (`FlowColumns::push_rows`): small enough to stay in the first-level caches.
const STAGED_ROWS: usize = 64;

/// Record types (nfdump `id.h`).
const RECORD_EXTENSION_MAP: u16 = 2;
const RECORD_COMMON: u16 = 10;
const RECORD_V3: u16 = 11;

/// Per-block / per-file decoding counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Data blocks seen (including skipped and corrupt ones).
    pub blocks: u64,
    /// Blocks skipped because of their type (array blocks, 1.5 blocks, unknown types).
    pub blocks_skipped: u64,
    /// Blocks that failed to decompress/decode (only counted with `skip_corrupt`).
    pub blocks_corrupt: u64,
    /// Flow records decoded.
    pub flows: u64,
    /// Non-flow records skipped (exporter, sampler, stat, nbar, ... and unknown types).
    pub records_skipped: u64,
    /// Flow records skipped because their extension map was missing (nfdump skips them too).
    pub records_missing_map: u64,
    /// The first error encountered in `skip_corrupt` mode, for diagnostics.
    pub first_error: Option<NfError>,
}

impl DecodeStats {
    /// Adds the counts of `later` (blocks decoded after these): the first error stays the
    /// earliest one.
    pub fn add(&mut self, later: DecodeStats) {
        self.blocks += later.blocks;
        self.blocks_skipped += later.blocks_skipped;
        self.blocks_corrupt += later.blocks_corrupt;
        self.flows += later.flows;
        self.records_skipped += later.records_skipped;
        self.records_missing_map += later.records_missing_map;
        if self.first_error.is_none() {
            self.first_error = later.first_error;
        }
    }
}

/// Iterate over the data blocks of a whole file (header is parsed first).
/// Yields at most one error, after which the iteration ends.
pub fn blocks(bytes: &[u8]) -> Result<Blocks<'_>, NfError> {
    let info = read_header(bytes)?;
    Ok(Blocks::new(bytes, &info))
}

/// Iterate over the data blocks using an already parsed header.
pub fn blocks_with<'a>(bytes: &'a [u8], info: &FileInfo) -> Blocks<'a> {
    Blocks::new(bytes, info)
}

/// Decode one raw block, appending its flow records to `out`. Returns the number of flows
/// appended. `maps` carries layout 1 extension maps across blocks (see module docs).
/// On error `out` is left unchanged (rows of a partially decoded block are rolled back).
pub fn decode_block(
    info: &FileInfo,
    raw: &RawBlock<'_>,
    proj: &Projection,
    maps: &mut ExtMaps,
    out: &mut FlowColumns,
) -> Result<usize, NfError> {
    let mut scratch = Vec::new();
    let mut stats = DecodeStats::default();
    decode_block_with(info, raw, proj, maps, out, &mut scratch, &mut stats)
}

/// Like `decode_block`, reusing a decompression `scratch` buffer and updating `stats`.
pub fn decode_block_with(
    info: &FileInfo,
    raw: &RawBlock<'_>,
    proj: &Projection,
    maps: &mut ExtMaps,
    out: &mut FlowColumns,
    scratch: &mut Vec<u8>,
    stats: &mut DecodeStats,
) -> Result<usize, NfError> {
    stats.blocks += 1;
    // nfdump 1.7 decodes block types 2 and 3 (both layouts), skips 4 (arrays) and others
    if raw.block_type != 2 && raw.block_type != 3 {
        stats.blocks_skipped += 1;
        return Ok(0);
    }
    let err = |r: String| NfError::in_block(raw.index, raw.offset, r);
    let data = decompress(info.compression, raw.payload, scratch).map_err(err)?;

    // Room for the block's rows at once (grown row by row, each column was copied at every
    // doubling and its new pages faulted in: a tenth of a day's top-N query). A hint only:
    // bounded by what the decompressed bytes can hold (4 bytes a record at least).
    let rows = (raw.num_records as usize).min(data.len() / 4).min(1 << 16);
    out.reserve(rows, proj);
    // a corrupt block leaves `out` untouched: roll back to this checkpoint on error
    let cp = out.checkpoint();
    let mut local = DecodeStats::default();
    let res = decode_records(data, raw, proj, maps, out, &mut local);
    if let Err(e) = res {
        out.rollback(&cp);
        return Err(err(e));
    }
    let n = local.flows as usize;
    stats.flows += local.flows;
    stats.records_skipped += local.records_skipped;
    stats.records_missing_map += local.records_missing_map;
    Ok(n)
}

/// Walk the records of one decompressed block. Errors are relative to the block.
fn decode_records(
    data: &[u8],
    raw: &RawBlock<'_>,
    proj: &Projection,
    maps: &mut ExtMaps,
    out: &mut FlowColumns,
    local: &mut DecodeStats,
) -> Result<(), String> {
    let mut staged: Vec<FlowRow> = Vec::with_capacity(STAGED_ROWS);
    let mut pos = 0usize;
    for i in 0..raw.num_records {
        let (Some(rtype), Some(rsize)) = (u16_at(data, pos), u16_at(data, pos + 2)) else {
            return Err(format!(
                "record {i} header at block byte {pos} overruns block of {} bytes",
                data.len()
            ));
        };
        let rsize = usize::from(rsize);
        if rsize < 4 {
            return Err(format!(
                "record {i} at block byte {pos}: invalid size {rsize}"
            ));
        }
        let Some(rec) = data.get(pos..pos + rsize) else {
            return Err(format!(
                "record {i} at block byte {pos}: size {rsize} overruns block of {} bytes",
                data.len()
            ));
        };
        match rtype {
            RECORD_V3 => {
                v2::decode_v3(rec, next_row(&mut staged))
                    .map_err(|r| format!("record {i} (V3) at block byte {pos}: {r}"))?;
                local.flows += 1;
                keep_last(&mut staged, out, proj);
            }
            RECORD_COMMON => {
                let map_id = u16_at(rec, 6).unwrap_or(0);
                if maps.get(map_id).is_none() && rec.len() >= 8 {
                    // nfdump: "Missing extension map. Skip record."
                    local.records_missing_map += 1;
                } else {
                    v1::decode_common(rec, maps, next_row(&mut staged))
                        .map_err(|r| format!("record {i} (common) at block byte {pos}: {r}"))?;
                    local.flows += 1;
                    keep_last(&mut staged, out, proj);
                }
            }
            RECORD_EXTENSION_MAP => maps
                .insert_record(rec)
                .map_err(|r| format!("record {i} (extension map) at block byte {pos}: {r}"))?,
            // legacy type 1 records (nfdump skips them too), exporter/sampler/stat/nbar/
            // ifname/vrfname records and unknown types
            _ => local.records_skipped += 1,
        }
        pos += rsize;
    }
    out.push_rows(&staged, proj);
    Ok(())
}

/// A new empty row at the end of the staging buffer, to decode a record into.
#[inline]
fn next_row(staged: &mut Vec<FlowRow>) -> &mut FlowRow {
    staged.push(FlowRow::EMPTY);
    let last = staged.len() - 1;
    &mut staged[last]
}

/// Keeps the row just decoded if the filter does; a full staging buffer goes to the columns.
#[inline]
fn keep_last(staged: &mut Vec<FlowRow>, out: &mut FlowColumns, proj: &Projection) {
    if staged.last().is_some_and(|r| !out.filter.keeps(r)) {
        staged.pop();
    } else if staged.len() == STAGED_ROWS {
        out.push_rows(staged, proj);
        staged.clear();
    }
}

/// Decode a whole file. With `skip_corrupt`, blocks that fail to decompress or decode are
/// skipped and counted (`DecodeStats::blocks_corrupt`); framing errors (bad block header,
/// truncation) end the file early. Without it, the first error is returned.
pub fn decode_file(
    bytes: &[u8],
    proj: &Projection,
    skip_corrupt: bool,
) -> Result<(FlowColumns, DecodeStats), NfError> {
    let info = read_header(bytes)?;
    if let Some(e) = &info.appendix_error
        && !skip_corrupt
    {
        return Err(e.clone());
    }
    let mut out = FlowColumns::default();
    let mut stats = DecodeStats::default();
    if let Some(s) = &info.stat {
        // a capacity hint only: never trust the header for large allocations
        let hint = s.numflows.min(info.file_len / 16).min(1 << 20);
        out.reserve(usize::try_from(hint).unwrap_or(0), proj);
    }
    let mut maps = ExtMaps::new();
    let mut scratch = Vec::new();
    for blk in Blocks::new(bytes, &info) {
        let res = blk.and_then(|raw| {
            decode_block_with(
                &info,
                &raw,
                proj,
                &mut maps,
                &mut out,
                &mut scratch,
                &mut stats,
            )
        });
        if let Err(e) = res {
            if !skip_corrupt {
                return Err(e);
            }
            stats.blocks_corrupt += 1;
            if stats.first_error.is_none() {
                stats.first_error = Some(e);
            }
        }
    }
    Ok((out, stats))
}

/// A reusable per-file decoder holding the decompression buffer and extension maps.
#[derive(Debug)]
pub struct Decoder {
    pub info: FileInfo,
    pub proj: Projection,
    pub maps: ExtMaps,
    pub stats: DecodeStats,
    scratch: Vec<u8>,
}

impl Decoder {
    pub fn new(info: FileInfo, proj: Projection) -> Self {
        Decoder {
            info,
            proj,
            maps: ExtMaps::new(),
            stats: DecodeStats::default(),
            scratch: Vec::new(),
        }
    }

    pub fn decode_block(
        &mut self,
        raw: &RawBlock<'_>,
        out: &mut FlowColumns,
    ) -> Result<usize, NfError> {
        decode_block_with(
            &self.info,
            raw,
            &self.proj,
            &mut self.maps,
            out,
            &mut self.scratch,
            &mut self.stats,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Net, RowFilter};

    /// A V3 record of `elements` (id, data).
    fn v3(elements: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let size = 12 + elements.iter().map(|e| 4 + e.1.len()).sum::<usize>();
        let mut r = Vec::new();
        r.extend(RECORD_V3.to_le_bytes());
        r.extend((size as u16).to_le_bytes());
        r.extend((elements.len() as u16).to_le_bytes());
        r.extend([1, 2, 3, 0, 0, 0]); // engine type, id, exporter id, flags, version
        for (id, data) in elements {
            r.extend(id.to_le_bytes());
            r.extend(((4 + data.len()) as u16).to_le_bytes());
            r.extend(data);
        }
        r
    }

    /// `n` bytes counting up from `seed`.
    fn bytes(n: usize, seed: usize) -> Vec<u8> {
        (0..n).map(|i| (seed * 31 + i) as u8).collect()
    }

    #[test]
    fn staged_rows_are_the_records_decoded_one_by_one() {
        // records whose elements differ (a MAC, counter, NEL in its long and short form, VRF
        // present in one record and absent from the next), IPv4 and IPv6
        let kinds = |k: usize, s: usize| -> Vec<(u16, Vec<u8>)> {
            let mut e = vec![(1, bytes(48, s))];
            match k % 6 {
                0 => e.extend([(2, bytes(8, s)), (15, bytes(32, s)), (5, bytes(24, s))]),
                1 => e.push((3, bytes(32, s))),
                2 => e.extend([(2, bytes(8, s)), (25, bytes(24, s))]),
                3 => e.extend([(2, bytes(8, s)), (25, bytes(16, s)), (36, bytes(8, s))]),
                4 => e.extend([(2, bytes(8, s)), (15, bytes(32, s))]),
                _ => e.extend([(3, bytes(32, s)), (5, bytes(24, s)), (99, bytes(4, s))]),
            }
            e
        };
        // 200 records (the stage fills three times), kinds in a scrambled order
        let records: Vec<Vec<u8>> = (0..200)
            .map(|i| v3(&kinds(i * 7 % 11 + i / 13, i)))
            .collect();
        let data = records.concat();
        let raw = RawBlock {
            index: 0,
            offset: 0,
            num_records: records.len() as u32,
            size: data.len() as u32,
            block_type: 3,
            flags: 0,
            payload: &data,
        };
        let proj = Projection::all();
        // every record, then only those whose source lies in a net of some of them
        let net = Net::parse("0.0.0.0/1").unwrap();
        for filter in [RowFilter::default(), RowFilter::new(vec![(false, net)])] {
            let mut got = FlowColumns {
                filter: filter.clone(),
                ..Default::default()
            };
            let mut stats = DecodeStats::default();
            let mut maps = ExtMaps::new();
            decode_records(&data, &raw, &proj, &mut maps, &mut got, &mut stats).unwrap();
            let mut want = FlowColumns {
                filter: filter.clone(),
                ..Default::default()
            };
            for r in &records {
                let mut row = FlowRow::default();
                v2::decode_v3(r, &mut row).unwrap();
                if filter.keeps(&row) {
                    want.push_rows(&[row], &proj);
                }
            }
            assert_eq!(stats.flows, 200);
            assert!(want.rows > 20, "{}", want.rows);
            assert_eq!(got, want);
        }
    }
}
