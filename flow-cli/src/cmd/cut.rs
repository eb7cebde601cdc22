//! `flow-models cut`: a range of records of a binary trace copied without decoding (the
//! original's `cut`, which runs `dd` on each column file); with a filter, another format or
//! several inputs, it is `convert`.

use crate::cmd::convert;
use datafusion::common::runtime::SpawnedTask;
use datafusion::common::{DataFusionError, Result};
use flow_provider::binary::cut::cut_trace;
use std::path::Path;

/// Cut flow records by range (and, unlike the original, by SQL filter, from any input).
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:\n  \
    # skip the first 100 records and write the next 1000 (column files copied, not decoded)\n  \
    flow-models cut -i binary -o binary -O sample --skip-in 100 --count-in 1000 sorted\n\n  \
    # the UDP flows among the first million, as csv_flow (this is convert)\n  \
    flow-models cut -i binary -o csv_flow -O udp.csv --count-in 1000000 --filter \"prot = 17\" trace\n\n\
    A binary trace cut to a binary trace without a filter or --skip-out/--count-out is copied\n\
    column file by column file (the kernel's copy_file_range where it can): every file keeps its\n\
    name and type, byte for byte what flow_models.cut writes. Anything else runs as convert\n\
    with the same flags. Outputs are written under a temporary name and renamed when complete.")]
#[group(id = "cut")]
pub struct Args {
    #[command(flatten)]
    pub convert: convert::Args,
}

pub async fn run(args: Args) -> Result<()> {
    let a = &args.convert;
    let copy = matches!(a.input.in_format, crate::input::InputFormat::Binary)
        && matches!(a.out.out_format, convert::OutFormat::Binary)
        && a.cut.input.filter.is_none()
        && a.cut.skip_out == 0
        && a.out.compress.is_none()
        && a.cut.count_out.is_none()
        && a.input.inputs.len() == 1
        && a.out.output != "-"
        && a.remote.is_none()
        // The byte copy is between local files; object stores go through convert.
        && [&a.input.inputs[0], &a.out.output]
            .iter()
            .all(|p| flow_provider::store::remote_url(p).is_none());
    if !copy {
        return convert::run(args.convert).await;
    }
    let (input, output) = (Path::new(&a.input.inputs[0]), Path::new(&a.out.output));
    let rows = SpawnedTask::spawn_blocking({
        let (input, output) = (input.to_path_buf(), output.to_path_buf());
        let (skip, count) = (a.cut.input.skip_in, a.cut.input.count_in);
        move || cut_trace(&input, &output, skip, count)
    })
    .join_unwind()
    .await
    .map_err(|e| DataFusionError::ExecutionJoin(Box::new(e)))??;
    eprintln!(
        "flow-models cut: wrote {rows} flows to {}",
        output.display()
    );
    Ok(())
}
