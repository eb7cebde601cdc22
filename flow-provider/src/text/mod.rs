//! Line-oriented flow text formats: flow-models `csv_flow` (read and write) and nfdump's `pipe`
//! output (read), exposed through DataFusion's file-format machinery so listing tables, COPY and
//! distributed plans handle them like CSV or Parquet.

pub mod format;
pub mod parse;
pub mod source;

pub use format::{CsvFlowSink, LineFormat, TextFlowFormat, TextFlowFormatFactory, text_table};
pub use parse::write_csv_flow;
