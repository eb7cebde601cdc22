//! csv_flow text (flow-models' 21 comma-separated fields), read as a file by the
//! reader DataFusion uses: never a panic, an endless loop or memory beyond the input's; every
//! non-blank line becomes a row, or the error names the file and the line.
#![no_main]

use flow_provider::text::LineFormat;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flow_models_fuzz::text::read_text(LineFormat::CsvFlow, data));
