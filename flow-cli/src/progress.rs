//! Progress reporting on stderr for long runs; invisible when stderr is not a terminal.

use datafusion::common::Result;
use datafusion::execution::SendableRecordBatchStream;
use flow_provider::sink::{FlowSink, OutputFormat};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Bars draw on stderr when it is a terminal, nowhere otherwise.
fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

/// A bar over `total` rows when the total is known, a row counter otherwise.
pub fn rows(total: Option<u64>) -> ProgressBar {
    let target = draw_target();
    match total {
        Some(n) => ProgressBar::with_draw_target(Some(n), target).with_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {human_pos}/{human_len} flows ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        ),
        None => ProgressBar::with_draw_target(None, target).with_style(
            ProgressStyle::with_template("{elapsed_precise} {human_pos} flows ({per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        ),
    }
}

/// A bar over `total` bytes when known, a byte counter otherwise.
pub fn bytes(total: Option<u64>) -> ProgressBar {
    let target = draw_target();
    let template = match total {
        Some(_) => {
            "{elapsed_precise} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})"
        }
        None => "{elapsed_precise} {bytes} ({bytes_per_sec})",
    };
    ProgressBar::with_draw_target(total, target).with_style(
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// A bar over `total` steps of some iterative computation (e.g. EM iterations).
pub fn steps(total: u64, unit: &str) -> ProgressBar {
    let target = draw_target();
    let template = format!("{{elapsed_precise}} [{{bar:40}}] {{pos}}/{{len}} {unit} (eta {{eta}})");
    ProgressBar::with_draw_target(Some(total), target).with_style(
        ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    )
}

/// Drains `stream` into a new `format` output at `output` (`-`: standard output) with a bar
/// over `total` rows; returns the number of rows written.
pub async fn write(
    stream: SendableRecordBatchStream,
    format: OutputFormat,
    output: &str,
    total: Option<u64>,
) -> Result<u64> {
    let sink = crate::stdout::sink(format, output, &stream.schema())?;
    drain(stream, sink, total).await
}

/// Drains `stream` into `sink` with a bar over `total` rows; returns the number of rows written.
pub async fn drain(
    stream: SendableRecordBatchStream,
    sink: FlowSink,
    total: Option<u64>,
) -> Result<u64> {
    let bar = rows(total);
    let written = flow_provider::sink::drain(stream, sink, |n| bar.inc(n as u64)).await?;
    bar.finish_and_clear();
    Ok(written)
}
