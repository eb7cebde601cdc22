//! One module per subcommand.

pub mod anonymize;
pub mod cluster;
pub mod compress;
pub mod convert;
pub mod cut;
pub mod fit;
pub mod generate;
pub mod hist;
pub mod merge;
pub mod plot;
pub mod series;
pub mod series_plot;
pub mod sort;
pub mod sql;
pub mod summary;
