//! The merge's counters as plan metrics: `EXPLAIN ANALYZE` shows them on the merge operator,
//! and [`counters`] sums them for a caller that ran the plan (the CLI prints them).

use super::Counters;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::{Count, ExecutionPlanMetricsSet, MetricBuilder};

/// The metric names, in [`Counters`] field order.
const NAMES: [&str; 11] = [
    "read",
    "merged",
    "overlapping",
    "written",
    "packets_in",
    "packets_out",
    "octets_in",
    "octets_out",
    "aggs_in",
    "aggs_out",
    "aggs_dropped",
];

/// One partition's counters.
#[derive(Debug)]
pub(crate) struct MergeMetrics([Count; 11]);

impl MergeMetrics {
    pub(crate) fn new(set: &ExecutionPlanMetricsSet, partition: usize) -> Self {
        Self(NAMES.map(|name| MetricBuilder::new(set).counter(name, partition)))
    }

    /// Adds what a partition's merger counted.
    pub(crate) fn record(&self, c: &Counters) {
        let values = [
            u128::from(c.read),
            u128::from(c.merged),
            u128::from(c.overlapping),
            u128::from(c.written),
            c.packets_in,
            c.packets_out,
            c.octets_in,
            c.octets_out,
            c.aggs_in,
            c.aggs_out,
            c.aggs_dropped,
        ];
        for (count, v) in self.0.iter().zip(values) {
            count.add(usize::try_from(v).unwrap_or(usize::MAX));
        }
    }
}

/// What the merge in `plan` did, summed over its partitions, once the plan has run (`None` when
/// the plan has no merge operator).
pub fn counters(plan: &dyn ExecutionPlan) -> Option<Counters> {
    if matches!(plan.name(), "MergeExec" | "TraceMergeExec") {
        let metrics = plan.metrics()?;
        let v = NAMES.map(|name| {
            metrics
                .sum_by_name(name)
                .map_or(0, |m| m.as_usize() as u128)
        });
        return Some(Counters {
            read: v[0] as u64,
            merged: v[1] as u64,
            overlapping: v[2] as u64,
            written: v[3] as u64,
            packets_in: v[4],
            packets_out: v[5],
            octets_in: v[6],
            octets_out: v[7],
            aggs_in: v[8],
            aggs_out: v[9],
            aggs_dropped: v[10],
        });
    }
    plan.children()
        .into_iter()
        .find_map(|c| counters(c.as_ref()))
}
