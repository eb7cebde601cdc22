//! Mixture JSON (`--initial` files, `generate`'s mixture directories, the SQL functions' mixture
//! arguments): `mixture_from_json` gives a mixture or an error, never a panic; a mixture it
//! accepts is written back by `mixture_to_json` and read again to the same components.
#![no_main]

use flow_udfs::mixture::{mixture_from_json, mixture_to_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(text) = flow_models_fuzz::utf8(data) else {
        return;
    };
    let Ok(mix) = mixture_from_json(text) else {
        return;
    };
    let json = mixture_to_json(&mix).expect("a mixture read from JSON can be written");
    let again = mixture_from_json(&json)
        .unwrap_or_else(|e| panic!("written mixture not readable: {e}\n{json}"));
    assert_eq!(again.components, mix.components, "{json}");
    if mix.sum.is_some_and(|s| s.value() != 0.0) {
        assert_eq!(again.sum, mix.sum, "{json}");
    }
});
