//! The plain-SQL twin of the fast path: a GROUP BY over the scalar functions, which is the
//! reference the fast path is tested against. `sql/hist.sql` is one instance of it.

use super::spec::{HistSpec, SumColumn, XValue};

const DURATION: &str = "flow_duration(first, first_ms, last, last_ms, packets)";

fn rate() -> String {
    format!("flow_rate(octets, {DURATION})")
}

impl HistSpec {
    /// The histogram of `table` as a GROUP BY query, columns and types as the fast path's.
    pub fn group_by_sql(&self, table: &str) -> String {
        let x = match self.x {
            XValue::Length => "packets".to_string(),
            XValue::Size => "octets".to_string(),
            XValue::Duration => DURATION.to_string(),
            XValue::Rate => rate(),
        };
        let b = self.bits;
        let mut select = vec![
            format!("CAST(log_bin({x}, {b}) AS DECIMAL(38, 0)) AS bin_lo"),
            format!("CAST(log_bin_hi({x}, {b}) AS DECIMAL(38, 0)) AS bin_hi"),
            "count(*) AS flows_sum".to_string(),
            "sum(CAST(packets AS DECIMAL(38, 0))) AS packets_sum".to_string(),
            "sum(CAST(octets AS DECIMAL(38, 0))) AS octets_sum".to_string(),
        ];
        for c in &self.columns {
            select.push(match c {
                SumColumn::Duration => {
                    format!("sum(CAST({DURATION} AS DECIMAL(38, 0))) AS duration_sum")
                }
                SumColumn::Rate => format!("sum({}) AS rate_sum", rate()),
                SumColumn::Aggs => "sum(CAST(aggs AS DECIMAL(38, 0))) AS aggs_sum".to_string(),
            });
        }
        format!(
            "SELECT\n  {}\nFROM {table}\nGROUP BY 1, 2\nORDER BY 1;\n",
            select.join(",\n  ")
        )
    }
}
