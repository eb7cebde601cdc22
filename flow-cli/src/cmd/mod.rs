//! One module per subcommand.

pub mod convert;
pub mod hist;
pub mod sql;
