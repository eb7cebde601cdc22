//! Histogram output: csv_hist text exactly as the original prints it (every value an integer,
//! floats truncated like Python's `int()`), or Parquet; files are committed atomically.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type, UInt64Type};
use datafusion::common::{DataFusionError, Result, exec_err};
use datafusion::parquet::arrow::ArrowWriter;
use flow_provider::atomic::AtomicFile;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Formats a histogram can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistOutput {
    CsvHist,
    Parquet,
}

fn io(source: std::io::Error) -> DataFusionError {
    flow_provider::FlowError::Output {
        what: "writing the histogram",
        source,
    }
    .into()
}

/// Row `i` of `column` as the original prints it: an exact integer.
fn cell(out: &mut impl Write, column: &dyn Array, i: usize) -> Result<()> {
    match column.data_type() {
        DataType::UInt64 => write!(out, "{}", column.as_primitive::<UInt64Type>().value(i)),
        DataType::Int64 => write!(out, "{}", column.as_primitive::<Int64Type>().value(i)),
        DataType::Decimal128(_, 0) => {
            write!(out, "{}", column.as_primitive::<Decimal128Type>().value(i))
        }
        DataType::Float64 => {
            // int(x): toward zero, printed with all its digits; -0.0 prints as 0.
            let t = column.as_primitive::<Float64Type>().value(i).trunc();
            if t == 0.0 {
                write!(out, "0")
            } else {
                write!(out, "{t:.0}")
            }
        }
        other => return exec_err!("csv_hist cannot print a {other} column"),
    }
    .map_err(io)
}

/// Writes `batch` as csv_hist (header line, then one line per bin).
pub fn write_csv_hist(batch: &RecordBatch, out: &mut impl Write) -> Result<()> {
    let schema = batch.schema();
    let header: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    writeln!(out, "{}", header.join(",")).map_err(io)?;
    for i in 0..batch.num_rows() {
        for (c, column) in batch.columns().iter().enumerate() {
            if c > 0 {
                out.write_all(b",").map_err(io)?;
            }
            if column.is_null(i) {
                return exec_err!("csv_hist: column {} is null in row {i}", header[c]);
            }
            cell(out, column, i)?;
        }
        out.write_all(b"\n").map_err(io)?;
    }
    Ok(())
}

/// Writes `batch` to the file at `path`, committed atomically.
pub fn write_hist(batch: &RecordBatch, format: HistOutput, path: impl AsRef<Path>) -> Result<()> {
    let file = AtomicFile::create(path.as_ref())?;
    match format {
        HistOutput::CsvHist => {
            let mut out = BufWriter::new(file);
            write_csv_hist(batch, &mut out)?;
            out.into_inner().map_err(|e| io(e.into_error()))?.commit()
        }
        HistOutput::Parquet => {
            let mut writer = ArrowWriter::try_new(file, batch.schema(), None)?;
            writer.write(batch)?;
            writer.into_inner()?.commit()
        }
    }
}
