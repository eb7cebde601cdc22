//! The cutting and filtering of flow-models `convert` and `hist` (--skip-in, --count-in,
//! --filter, --skip-out, --count-out): skip/count on the input, a SQL filter,
//! skip/count on the output, in that order.

use datafusion::common::Result;
use datafusion::prelude::DataFrame;

#[derive(Debug, Clone, Default)]
pub struct Cut {
    pub skip_in: usize,
    pub count_in: Option<usize>,
    pub skip_out: usize,
    pub count_out: Option<usize>,
    /// A SQL boolean expression over the input's columns.
    pub filter: Option<String>,
}

impl Cut {
    /// How many rows of an input of `rows` rows the cut reads (before filtering).
    pub fn rows_read(&self, rows: u64) -> u64 {
        let rows = rows.saturating_sub(self.skip_in as u64);
        self.count_in.map_or(rows, |c| rows.min(c as u64))
    }

    /// Whether the cut depends on the input's row order (skipping or counting rows).
    pub fn needs_order(&self) -> bool {
        self.skip_in > 0 || self.count_in.is_some() || self.skip_out > 0 || self.count_out.is_some()
    }

    pub fn apply(&self, mut df: DataFrame) -> Result<DataFrame> {
        if self.skip_in > 0 || self.count_in.is_some() {
            df = df.limit(self.skip_in, self.count_in)?;
        }
        if let Some(filter) = &self.filter {
            let predicate = df.parse_sql_expr(filter)?;
            df = df.filter(predicate)?;
        }
        if self.skip_out > 0 || self.count_out.is_some() {
            df = df.limit(self.skip_out, self.count_out)?;
        }
        Ok(df)
    }
}
