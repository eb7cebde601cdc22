//! Standard output for results, and the `-O -` convention: a write refused because the reader
//! went away (`… | head`) is remembered, so that the command can end quietly for that reason and
//! no other (a broken pipe given as an output file stays an error).

use arrow::datatypes::Schema;
use datafusion::common::{Result, plan_err};
use flow_provider::sink::{FlowSink, OutputFormat};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output, noting a reader that went away.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        closed_on_epipe(std::io::stdout().write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        closed_on_epipe(std::io::stdout().flush())
    }
}

fn closed_on_epipe<T>(r: std::io::Result<T>) -> std::io::Result<T> {
    if let Err(e) = &r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        CLOSED.store(true, Ordering::Relaxed);
    }
    r
}

/// Whether a write to [`Stdout`] found its reader gone.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// The sink `-O output` names: `-` is standard output (csv_flow only), anything else a path.
pub fn sink(format: OutputFormat, output: &str, schema: &Schema) -> Result<FlowSink> {
    match (format, output) {
        (OutputFormat::CsvFlow, "-") => Ok(FlowSink::csv_flow_to(Box::new(Stdout))),
        (_, "-") => {
            plan_err!("{format:?} output cannot go to standard output: give a path with -O")
        }
        (_, path) => FlowSink::create(format, path, schema),
    }
}
