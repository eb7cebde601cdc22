//! The decoder's own speed, without DataFusion: decodes nfcapd files (or every file under the
//! directories given) into the columns named, REPS times, and prints the flows, the sums of
//! the packets and octets columns when projected, and the median time of a pass. As the
//! `nfcapd` table does: one decompression buffer for all, rows taken out every 8192. A quick
//! A/B of a decoder change builds in seconds (the `flow-models` binary takes minutes):
//!
//! ```sh
//! cargo run --release -p nfcapd-decode --example decode_files -- packets,octets 9 day/
//! ```
//!
//! With `-` for the columns it only decompresses the blocks (the decompressor's own speed).
use std::path::{Path, PathBuf};
use std::time::Instant;

use nfcapd_decode::{
    DecodeStats, ExtMaps, FlowColumns, Projection, blocks_with, decode_block_with, decompress,
    read_header,
};

fn files_under(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            files_under(&e, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [columns, reps, paths @ ..] = args.as_slice() else {
        return Err("usage: decode_files COLUMN[,COLUMN...] REPS PATH...".into());
    };
    let reps = reps.parse::<usize>()?.max(1);
    let mut files = Vec::new();
    for p in paths {
        files_under(Path::new(p), &mut files)?;
    }
    let bytes = files
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    if columns == "-" {
        return decompress_only(&bytes, reps);
    }
    let names: Vec<&str> = columns.split(',').filter(|c| !c.is_empty()).collect();
    let proj = Projection::from_names(&names)?;
    let mut times = Vec::with_capacity(reps);
    let mut summary = String::new();
    let mut scratch = Vec::new();
    let mut out = FlowColumns::default();
    for _ in 0..reps {
        let start = Instant::now();
        let mut stats = DecodeStats::default();
        let (mut packets, mut octets) = (0u64, 0u64);
        let mut take = |out: &mut FlowColumns| {
            packets += out.packets.iter().sum::<u64>();
            octets += out.octets.iter().sum::<u64>();
            out.clear();
        };
        for b in &bytes {
            let info = read_header(b)?;
            let mut maps = ExtMaps::new();
            for raw in blocks_with(b, &info) {
                let raw = raw?;
                decode_block_with(
                    &info,
                    &raw,
                    &proj,
                    &mut maps,
                    &mut out,
                    &mut scratch,
                    &mut stats,
                )?;
                if out.rows >= 8192 {
                    take(&mut out);
                }
            }
        }
        take(&mut out);
        times.push(start.elapsed().as_secs_f64());
        summary = format!(
            "{} files, {} flows, {packets} packets, {octets} octets",
            bytes.len(),
            stats.flows
        );
    }
    println!("{summary}");
    println!("median {:.4} s of {reps} passes", median(times));
    Ok(())
}

/// Decompresses every block of the files `reps` times: the bytes out and the median time.
fn decompress_only(files: &[Vec<u8>], reps: usize) -> Result<(), Box<dyn std::error::Error>> {
    let (mut scratch, mut times, mut total) = (Vec::new(), Vec::new(), 0);
    for _ in 0..reps {
        let start = Instant::now();
        total = 0;
        for b in files {
            let info = read_header(b)?;
            for raw in blocks_with(b, &info) {
                total += decompress(info.compression, raw?.payload, &mut scratch)?.len();
            }
        }
        times.push(start.elapsed().as_secs_f64());
    }
    let m = median(times);
    println!("{} files, {total} bytes decompressed", files.len());
    let rate = total as f64 / m / 1e9;
    println!("median {m:.4} s of {reps} passes, {rate:.2} GB/s");
    Ok(())
}

fn median(mut times: Vec<f64>) -> f64 {
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}
