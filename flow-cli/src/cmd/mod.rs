//! One module per subcommand.

pub mod convert;
pub mod sql;
pub mod fit;
pub mod generate;
