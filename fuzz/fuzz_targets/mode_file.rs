//! `.mode` files (the fit arguments `save()` writes beside a mixture): `mode_from_json` gives
//! the arguments or an error, never a panic; what it accepts is written back by `mode_to_json`
//! and read again to the same arguments.
#![no_main]

use flow_udfs::mixture::{mode_from_json, mode_to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = flow_models_fuzz::utf8(data) else {
        return;
    };
    let Ok(mode) = mode_from_json(text) else {
        return;
    };
    let json = mode_to_json(&mode).expect("a mode read from JSON can be written");
    let again =
        mode_from_json(&json).unwrap_or_else(|e| panic!("written mode not readable: {e}\n{json}"));
    assert_eq!(again, mode, "{json}");
});
