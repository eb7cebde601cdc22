//! Parsing of single csv_flow / pipe lines into columns, and printing of csv_flow lines exactly
//! as flow-models prints them (`str(tuple)[1:-1]`: values joined by ", ").

use crate::fields::{STANDARD_FIELDS, standard_position};
use arrow::array::{Array, ArrayRef, RecordBatch, UInt64Array};
use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::{DataFusionError, Result};
use std::io::Write;
use std::sync::{Arc, LazyLock};

/// Which text layout a file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum LineFormat {
    /// flow-models csv_flow: the 21 standard fields, comma separated, no header.
    CsvFlow,
    /// nfdump `-o pipe`: 22 fields (nfdump 1.7, times in epoch ms) or 24 (1.6, s and ms apart).
    Pipe,
}

/// Extra columns of the pipe format, after the 21 standard ones.
const PIPE_EXTRA: [(&str, DataType); 4] = [
    ("src_as", DataType::UInt32),
    ("dst_as", DataType::UInt32),
    ("tcp_flags", DataType::UInt8),
    ("tos", DataType::UInt8),
];

impl LineFormat {
    pub fn name(self) -> &'static str {
        match self {
            LineFormat::CsvFlow => "csv_flow",
            LineFormat::Pipe => "pipe",
        }
    }

    pub fn schema(self) -> SchemaRef {
        static CSV: LazyLock<SchemaRef> = LazyLock::new(crate::fields::standard_schema);
        static PIPE: LazyLock<SchemaRef> = LazyLock::new(|| {
            let mut fields: Vec<Field> = CSV.fields().iter().map(|f| f.as_ref().clone()).collect();
            fields.extend(
                PIPE_EXTRA
                    .iter()
                    .map(|(n, t)| Field::new(*n, t.clone(), false)),
            );
            Arc::new(Schema::new(fields))
        });
        match self {
            LineFormat::CsvFlow => CSV.clone(),
            LineFormat::Pipe => PIPE.clone(),
        }
    }
}

fn max_of(dt: &DataType) -> u64 {
    match dt {
        DataType::UInt8 => u8::MAX as u64,
        DataType::UInt16 => u16::MAX as u64,
        DataType::UInt32 => u32::MAX as u64,
        _ => u64::MAX,
    }
}

/// Accumulates parsed lines column by column (all columns are unsigned integers).
pub struct LineParser {
    format: LineFormat,
    schema: SchemaRef,
    maxima: Vec<u64>,
    columns: Vec<Vec<u64>>,
    fields: Vec<u64>,
}

impl LineParser {
    pub fn new(format: LineFormat) -> Self {
        let schema = format.schema();
        let maxima = schema
            .fields()
            .iter()
            .map(|f| max_of(f.data_type()))
            .collect();
        let columns = vec![Vec::new(); schema.fields().len()];
        Self {
            format,
            schema,
            maxima,
            columns,
            fields: Vec::with_capacity(24),
        }
    }

    pub fn format(&self) -> LineFormat {
        self.format
    }

    pub fn rows(&self) -> usize {
        self.columns[0].len()
    }

    /// Parses one line (without its newline); blank lines are skipped. The error says what is
    /// wrong with the line; the caller adds the file and line number.
    pub fn push_line(&mut self, line: &str) -> std::result::Result<(), String> {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return Ok(());
        }
        let sep = match self.format {
            LineFormat::CsvFlow => ',',
            LineFormat::Pipe => '|',
        };
        let count = line.split(sep).count();
        match (self.format, count) {
            (LineFormat::CsvFlow, 21) | (LineFormat::Pipe, 22 | 24) => {}
            (LineFormat::CsvFlow, n) => {
                return Err(format!("expected 21 comma-separated fields, found {n}"));
            }
            (LineFormat::Pipe, n) => {
                return Err(format!(
                    "expected 22 (nfdump 1.7) or 24 (nfdump 1.6) '|'-separated fields, found {n}"
                ));
            }
        }
        self.fields.clear();
        for (i, raw) in line.split(sep).enumerate() {
            let v = raw.trim();
            let n = v
                .parse::<u64>()
                .map_err(|_| format!("field {} is '{v}', not an unsigned integer", i + 1))?;
            self.fields.push(n);
        }
        let row = match (self.format, self.fields.len()) {
            (LineFormat::CsvFlow, _) => self.fields.clone(),
            (LineFormat::Pipe, 22) => {
                let f = &self.fields;
                pipe_row(f, [f[1] / 1000, f[1] % 1000, f[2] / 1000, f[2] % 1000], 3)
            }
            (LineFormat::Pipe, _) => {
                let f = &self.fields;
                pipe_row(f, [f[1], f[2], f[3], f[4]], 5)
            }
        };
        for (i, (v, max)) in row.iter().zip(&self.maxima).enumerate() {
            if v > max {
                return Err(format!(
                    "value {v} of '{}' does not fit in {}",
                    self.schema.field(i).name(),
                    self.schema.field(i).data_type()
                ));
            }
        }
        for (col, v) in self.columns.iter_mut().zip(row) {
            col.push(v);
        }
        Ok(())
    }

    /// Moves the accumulated rows into a batch of the format's schema.
    pub fn take_batch(&mut self) -> Result<RecordBatch> {
        let arrays = self
            .columns
            .iter_mut()
            .zip(self.schema.fields())
            .map(|(col, field)| {
                let values: ArrayRef = Arc::new(UInt64Array::from(std::mem::take(col)));
                Ok(cast_with_options(
                    &values,
                    field.data_type(),
                    &CastOptions::default(),
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RecordBatch::try_new(self.schema.clone(), arrays)?)
    }
}

/// Reorders a pipe line (`af|times…|proto|sa0..3|sp|da0..3|dp|srcas|dstas|input|output|flags|tos|packets|bytes`)
/// into the standard field order followed by the pipe extras. `p` is the index of `proto`.
fn pipe_row(f: &[u64], times: [u64; 4], p: usize) -> Vec<u64> {
    let [first, first_ms, last, last_ms] = times;
    vec![
        f[0],      // af
        f[p],      // prot
        f[p + 13], // inif (input)
        f[p + 14], // outif (output)
        f[p + 1],
        f[p + 2],
        f[p + 3],
        f[p + 4], // sa0..sa3
        f[p + 6],
        f[p + 7],
        f[p + 8],
        f[p + 9],  // da0..da3
        f[p + 5],  // sp
        f[p + 10], // dp
        first,
        first_ms,
        last,
        last_ms,
        f[p + 17], // packets
        f[p + 18], // octets
        1,         // aggs: each pipe record is one flow
        f[p + 11],
        f[p + 12], // src_as, dst_as
        f[p + 15],
        f[p + 16], // tcp_flags, tos
    ]
}

/// Writes the rows of `batch` as csv_flow lines. Standard fields absent from the batch are
/// written as 0 (as flow-models does for missing array files); other columns are ignored.
pub fn write_csv_flow(batch: &RecordBatch, out: &mut impl Write) -> Result<()> {
    let schema = batch.schema();
    let strict = CastOptions {
        safe: false,
        ..Default::default()
    };
    let mut columns: Vec<Option<UInt64Array>> = vec![None; STANDARD_FIELDS.len()];
    for (i, field) in schema.fields().iter().enumerate() {
        let Some(pos) = standard_position(field.name()) else {
            continue;
        };
        let array =
            cast_with_options(batch.column(i), &DataType::UInt64, &strict).map_err(|e| {
                DataFusionError::Execution(format!(
                    "csv_flow: column '{}' ({}) cannot be written as an unsigned integer: {e}",
                    field.name(),
                    field.data_type()
                ))
            })?;
        if array.null_count() > 0 {
            return Err(DataFusionError::Execution(format!(
                "csv_flow: column '{}' has NULL values, which csv_flow cannot store",
                field.name()
            )));
        }
        columns[pos] = Some(
            array
                .as_any()
                .downcast_ref::<UInt64Array>()
                .cloned()
                .ok_or_else(|| {
                    DataFusionError::Internal("cast to UInt64 gave another type".into())
                })?,
        );
    }
    let mut line = String::with_capacity(128);
    let mut buf = itoa_buffer();
    for row in 0..batch.num_rows() {
        line.clear();
        for (i, col) in columns.iter().enumerate() {
            if i > 0 {
                line.push_str(", ");
            }
            let v = col.as_ref().map_or(0, |c| c.value(row));
            line.push_str(fmt_u64(&mut buf, v));
        }
        line.push('\n');
        out.write_all(line.as_bytes())
            .map_err(|source| crate::FlowError::Output {
                what: "csv_flow: write failed",
                source,
            })?;
    }
    Ok(())
}

fn itoa_buffer() -> String {
    String::with_capacity(20)
}

fn fmt_u64(buf: &mut String, v: u64) -> &str {
    use std::fmt::Write as _;
    buf.clear();
    let _ = write!(buf, "{v}");
    buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::{UInt8Type, UInt16Type, UInt32Type, UInt64Type};

    #[test]
    fn csv_flow_line_round_trip() {
        let line = "2, 6, 1, 2, 0, 0, 0, 167837953, 0, 0, 0, 167903797, 50002, 443, 1717243202, 750, 1717243203, 5, 10, 12345, 1";
        let mut p = LineParser::new(LineFormat::CsvFlow);
        p.push_line(line).unwrap();
        let batch = p.take_batch().unwrap();
        assert_eq!(
            batch.column(12).as_primitive::<UInt16Type>().value(0),
            50002
        );
        assert_eq!(
            batch.column(19).as_primitive::<UInt64Type>().value(0),
            12345
        );
        let mut out = Vec::new();
        write_csv_flow(&batch, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{line}\n"));
    }

    #[test]
    fn pipe_17_and_16_agree() {
        let l17 = "2|1717243202750|1717243203005|17|0|0|0|167837953|50002|0|0|0|167903797|53|64512|15169|3|4|27|8|2|362";
        let l16 = "2|1717243202|750|1717243203|5|17|0|0|0|167837953|50002|0|0|0|167903797|53|64512|15169|3|4|27|8|2|362";
        let mut a = LineParser::new(LineFormat::Pipe);
        a.push_line(l17).unwrap();
        a.push_line(l16).unwrap();
        let b = a.take_batch().unwrap();
        for col in b.columns() {
            let c = arrow::compute::cast(col, &DataType::UInt64).unwrap();
            let c = c.as_primitive::<UInt64Type>();
            assert_eq!(c.value(0), c.value(1));
        }
        assert_eq!(b.column(1).as_primitive::<UInt8Type>().value(0), 17);
        assert_eq!(b.column(2).as_primitive::<UInt16Type>().value(0), 3);
        assert_eq!(b.column(7).as_primitive::<UInt32Type>().value(0), 167837953);
        assert_eq!(b.column(12).as_primitive::<UInt16Type>().value(0), 50002);
        assert_eq!(b.column(13).as_primitive::<UInt16Type>().value(0), 53);
        assert_eq!(
            b.column(14).as_primitive::<UInt32Type>().value(0),
            1717243202
        );
        assert_eq!(b.column(15).as_primitive::<UInt16Type>().value(0), 750);
        assert_eq!(b.column(17).as_primitive::<UInt16Type>().value(0), 5);
        assert_eq!(b.column(18).as_primitive::<UInt64Type>().value(0), 2);
        assert_eq!(b.column(19).as_primitive::<UInt64Type>().value(0), 362);
        assert_eq!(b.column(21).as_primitive::<UInt32Type>().value(0), 64512);
        assert_eq!(b.column(23).as_primitive::<UInt8Type>().value(0), 27);
    }

    #[test]
    fn bad_lines_are_explained() {
        let mut p = LineParser::new(LineFormat::CsvFlow);
        assert!(p.push_line("1, 2, 3").unwrap_err().contains("expected 21"));
        let too_big = format!("2, 6, 70000{}", ", 0".repeat(18));
        assert!(
            p.push_line(&too_big)
                .unwrap_err()
                .contains("'inif' does not fit")
        );
        assert!(
            p.push_line(&format!("x{}", ", 0".repeat(20)))
                .unwrap_err()
                .contains("field 1")
        );
        let mut q = LineParser::new(LineFormat::Pipe);
        assert!(q.push_line("1|2|3").unwrap_err().contains("found 3"));
        assert_eq!(q.rows(), 0);
    }

    /// Random and mutated lines give a row or an error, never a panic.
    #[test]
    fn arbitrary_lines_never_panic() {
        let seeds = [
            "2, 6, 1, 2, 0, 0, 0, 167837953, 0, 0, 0, 167903797, 50002, 443, 1717243202, 750, 1717243203, 5, 10, 12345, 1",
            "2|1717243202750|1717243203005|17|0|0|0|167837953|50002|0|0|0|167903797|53|64512|15169|3|4|27|8|2|362",
        ];
        let alphabet = b"0123456789,| -x\t\r9999999999999999999999";
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for format in [LineFormat::CsvFlow, LineFormat::Pipe] {
            let mut parser = LineParser::new(format);
            for seed in seeds {
                for _ in 0..2000 {
                    let mut bytes = seed.as_bytes().to_vec();
                    for _ in 0..(next() % 6) {
                        let i = (next() as usize) % bytes.len();
                        match next() % 3 {
                            0 => bytes[i] = alphabet[(next() as usize) % alphabet.len()],
                            1 => {
                                bytes.remove(i);
                            }
                            _ => bytes.insert(i, alphabet[(next() as usize) % alphabet.len()]),
                        }
                    }
                    let line = String::from_utf8_lossy(&bytes);
                    let _ = parser.push_line(&line);
                }
            }
            let rows = parser.rows();
            assert_eq!(parser.take_batch().unwrap().num_rows(), rows);
        }
    }
}
