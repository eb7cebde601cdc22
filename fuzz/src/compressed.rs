//! The frame splitter of compressed columns: what a zstd file's seek table or frame headers, an
//! xz file's stream indexes, an lz4 file's frame headers, a BGZF file's member headers and the
//! bzip2 stream magic say about the file (`flow_provider::binary::frames`), on any bytes.

use flow_provider::binary::frames::{
    Frame, gzip_frames, bz2_stream_starts, lz4_frames, xz_blocks, xz_from_block, xz_index,
    zstd_frames,
};

/// Frames found are inside the file and in ascending order; a stream made around any xz block
/// lies inside the file too; never a panic.
pub fn frames(data: &[u8]) {
    let check = |frames: Option<Vec<Frame>>| {
        let mut previous: Option<u64> = None;
        for f in frames.iter().flatten() {
            assert!(f.offset < data.len() as u64, "{f:?} beyond {} bytes", data.len());
            assert!(previous.is_none_or(|p| p < f.offset), "{frames:?} out of order");
            previous = Some(f.offset);
        }
    };
    check(zstd_frames(data));
    check(xz_blocks(data));
    check(lz4_frames(data));
    check(gzip_frames(data));
    for stream in xz_index(data).iter().flatten() {
        for block in 0..stream.blocks.len() {
            let (header, blocks, tail) = xz_from_block(data, stream, block).expect("a block");
            assert_eq!(header.len(), 12);
            assert!(blocks.start <= blocks.end && blocks.end <= data.len(), "{blocks:?}");
            assert!(tail.len().is_multiple_of(4), "{}", tail.len());
        }
    }
    let starts = bz2_stream_starts(data);
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
}
