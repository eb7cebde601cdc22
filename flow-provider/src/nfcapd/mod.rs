//! nfdump `nfcapd` files (layout 1 = nfdump 1.6, layout 2 = nfdump 1.7) as a DataFusion source:
//! the decoding is done by the `nfcapd-decode` crate (no DataFusion in it); this module is the
//! glue: `schema` (Arrow columns of the decoded fields), `format` for `STORED AS NFCAPD`,
//! `source` for opening one file, `window` for the files a time window skips, `nets` for the address nets it
//! answers, `info` for
//! `nfcapd_info`.
#![forbid(unsafe_code)]

pub mod format;
pub mod info;
pub mod nets;
mod remote;
pub mod schema;
mod source;
pub mod window;

pub use format::{NfcapdFormat, NfcapdFormatFactory, NfcapdOptions};
