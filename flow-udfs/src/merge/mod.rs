//! `merge`: stitches flow records split by the active timeout back into flows, as flow-models'
//! `merge.py` does, with its four documented defects fixed (see the README). The state machine
//! is in `state`, the physical operators in `exec` (a known input layout) and `trace` (binary
//! traces, strategy chosen when run), their counters in `metrics`, the table function
//! `flow_merge` in `table`.

mod exec;
mod metrics;
mod state;
mod table;
mod trace;

use datafusion::common::{DataFusionError, Result};
use std::fmt;

pub use exec::{MergeExec, Mode};
pub use metrics::counters;
pub use table::{FlowMergeFunc, MergeTable, merge_plan};
pub use trace::{Strategy, TraceMergeExec};

/// Timeouts of the collector that split the flows, in whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MergeParams {
    pub inactive_ms: i64,
    pub active_ms: i64,
}

impl MergeParams {
    /// From timeouts in (possibly fractional) seconds, rounded to the millisecond: the original
    /// takes `int(frac * 1000)` of a float and so turns 15.001 s into 15.000 s.
    pub fn from_seconds(inactive: f64, active: f64) -> Result<Self> {
        for (name, v) in [("inactive", inactive), ("active", active)] {
            if !v.is_finite() || !(0.0..=4.0e9).contains(&v) {
                return Err(DataFusionError::Plan(format!(
                    "{name} timeout must be a number of seconds between 0 and 4e9, got {v}"
                )));
            }
        }
        Ok(Self {
            inactive_ms: (inactive * 1000.0).round() as i64,
            active_ms: (active * 1000.0).round() as i64,
        })
    }

    /// A record lasting at least this long (in whole seconds ×1000) may have been cut by the
    /// active timeout and is a merge candidate.
    pub fn candidate_ms(&self) -> i64 {
        self.active_ms - self.inactive_ms
    }
}

/// What a merge did. `aggs_dropped` is what the original's `aggs += 1` loses when a merged
/// record itself had `aggs` > 1 (0 for raw collector records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub read: u64,
    pub merged: u64,
    pub overlapping: u64,
    pub written: u64,
    pub packets_in: u128,
    pub packets_out: u128,
    pub octets_in: u128,
    pub octets_out: u128,
    /// Sum of input `aggs`, counting 0 as 1.
    pub aggs_in: u128,
    pub aggs_out: u128,
    pub aggs_dropped: u128,
}

impl Counters {
    pub fn add(&mut self, o: &Counters) {
        self.read += o.read;
        self.merged += o.merged;
        self.overlapping += o.overlapping;
        self.written += o.written;
        self.packets_in += o.packets_in;
        self.packets_out += o.packets_out;
        self.octets_in += o.octets_in;
        self.octets_out += o.octets_out;
        self.aggs_in += o.aggs_in;
        self.aggs_out += o.aggs_out;
        self.aggs_dropped += o.aggs_dropped;
    }

    /// The conservation laws of a merge: nothing lost, nothing invented.
    pub fn check(&self) -> Result<()> {
        let mut broken = Vec::new();
        if self.read != self.written + self.merged {
            broken.push(format!(
                "records in {} != written {} + merged away {}",
                self.read, self.written, self.merged
            ));
        }
        if self.packets_in != self.packets_out {
            broken.push(format!(
                "packets in {} != out {}",
                self.packets_in, self.packets_out
            ));
        }
        if self.octets_in != self.octets_out {
            broken.push(format!(
                "octets in {} != out {}",
                self.octets_in, self.octets_out
            ));
        }
        if self.aggs_in != self.aggs_out + self.aggs_dropped {
            broken.push(format!(
                "aggs in {} != out {} + dropped {}",
                self.aggs_in, self.aggs_out, self.aggs_dropped
            ));
        }
        if broken.is_empty() {
            Ok(())
        } else {
            Err(DataFusionError::Internal(format!(
                "merge invariant broken: {}",
                broken.join("; ")
            )))
        }
    }
}

impl fmt::Display for Counters {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "read {}, merged {}, overlapping {}, written {} (packets {}, octets {}, aggs {})",
            self.read,
            self.merged,
            self.overlapping,
            self.written,
            self.packets_out,
            self.octets_out,
            self.aggs_out
        )
    }
}
