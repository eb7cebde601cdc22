//! csv_hist text (the histogram `fit` and `generate` read): `Histogram::parse` gives a histogram
//! or an error, never a panic, an endless loop or memory beyond the input's.
#![no_main]

use flow_udfs::mixture::Histogram;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `Histogram::from_path` reads the file with `read_to_string`: non-UTF-8 never gets here.
    let Some(text) = flow_models_fuzz::utf8(data) else {
        return;
    };
    if let Ok(h) = Histogram::parse(text) {
        assert!(!h.x.is_empty());
        for c in &h.columns {
            assert_eq!(c.values.len(), h.x.len(), "column {}", c.name);
            assert!(!c.name.ends_with("_ssq"));
            assert!(c.values.iter().all(|v| v.is_finite()));
        }
    }
});
