//! The binary trace directory scanner (`flowbin`, `FlowBinTable`) over directory layouts made
//! from the input (see `flow_models_fuzz::flowbin` for the input's form): an error or traces
//! that read back whole, never a panic or an endless walk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| flow_models_fuzz::flowbin::scan_layout(data));
