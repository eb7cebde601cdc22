//! flow-models on DataFusion: the facade crate. It re-exports the library crates so examples
//! and integration tests (and embedding applications) can depend on one name.

pub use flow_provider;
pub use flow_udfs;
pub use flow_udfs::{context, register_all, with_rules};
