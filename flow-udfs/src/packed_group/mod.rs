//! `GROUP BY` over integer columns with the keys packed into a few 64-bit words: the top-N
//! question of flow data (`GROUP BY sa0, …, da3, sp, dp, prot` — eleven columns, 296 bits:
//! five words). DataFusion's own grouping compares and hashes the key columns one by one
//! (a quarter of nfdump's `-s record/bytes` question over a day of files); here each row's key
//! is packed once, hashed once and compared as whole words.
//!
//! [`PackedGroupRule`] replaces a partial (or single) `AggregateExec` whose group keys are
//! non-nullable integer columns fitting in [`keys::MAX_WORDS`] words and whose aggregates are
//! `min`, `max`, `sum` of non-nullable integer columns and `count` by [`PackedAggregateExec`],
//! which emits exactly the partial aggregate's batches (the same schema and values); a single
//! aggregate becomes the packed partial under DataFusion's final one. Everything else is left
//! as it is. The partial may emit a group more than once (it starts afresh past
//! [`FLUSH_GROUPS`] groups or its memory reservation): the final aggregate merges them, as it
//! does the partials of several partitions. Its parameters are plain data (column indices,
//! types, operations).

mod keys;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::datatypes::SchemaRef;
use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::aggregate::AggregateFunctionExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::EmissionType;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, InputOrderMode,
    PlanProperties,
};
use futures::StreamExt;
use keys::{Acc, Groups, IntType, KeyLayout, Op};
use std::fmt;
use std::sync::Arc;

/// Groups a partial aggregate holds before it emits them and starts afresh.
pub const FLUSH_GROUPS: usize = 1 << 18;

/// One aggregate: what it computes, over which input column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackedAggregate {
    pub op: Op,
    /// The argument's input column and type; `None` for `count` (of a value never null).
    pub input: Option<(usize, IntType)>,
}

/// A partial hash aggregate over packed integer keys (see the module documentation).
#[derive(Debug)]
pub struct PackedAggregateExec {
    input: Arc<dyn ExecutionPlan>,
    /// The key columns of the input.
    keys: Vec<usize>,
    layout: KeyLayout,
    /// The aggregates, holding no group yet (each partition starts from a copy).
    accs: Vec<Acc>,
    /// The partial aggregate's output schema (keys, then one state column per aggregate).
    schema: SchemaRef,
    properties: Arc<PlanProperties>,
    metrics: ExecutionPlanMetricsSet,
}

impl PackedAggregateExec {
    /// `None` when the keys do not pack or an aggregate's state is not a 64-bit integer column
    /// of `schema` as [`Acc`] computes it.
    pub fn try_new(
        input: Arc<dyn ExecutionPlan>,
        keys: Vec<(usize, IntType)>,
        aggregates: Vec<PackedAggregate>,
        schema: SchemaRef,
    ) -> Option<Self> {
        let layout = KeyLayout::new(&keys.iter().map(|k| k.1).collect::<Vec<_>>())?;
        if schema.fields().len() != keys.len() + aggregates.len() {
            return None;
        }
        let states = &schema.fields()[keys.len()..];
        let accs: Vec<Acc> = aggregates
            .iter()
            .zip(states)
            .map(|(a, f)| Acc::new(a.op, a.input, f.data_type()))
            .collect::<Option<_>>()?;
        // as many partitions as the input, by no key of its own output's columns
        let partitions = input.output_partitioning().partition_count();
        let properties = crate::plan_properties(schema.clone(), partitions, EmissionType::Final);
        Some(Self {
            input,
            keys: keys.iter().map(|k| k.0).collect(),
            layout,
            accs,
            schema,
            properties,
            metrics: ExecutionPlanMetricsSet::new(),
        })
    }

    /// The input columns it reads: the keys and the aggregates' arguments.
    fn columns_read(&self) -> Vec<usize> {
        let args = self.accs.iter().filter_map(Acc::input_column);
        self.keys.iter().copied().chain(args).collect()
    }
}

impl DisplayAs for PackedAggregateExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let names: Vec<&str> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let (keys, aggregates) = names.split_at(self.keys.len());
        write!(
            f,
            "PackedAggregateExec: gby=[{}], aggr=[{}], key words={}",
            keys.join(", "),
            aggregates.join(", "),
            self.layout.words()
        )
    }
}

impl ExecutionPlan for PackedAggregateExec {
    fn name(&self) -> &str {
        "PackedAggregateExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = crate::only_child("PackedAggregateExec", children)?;
        Ok(Arc::new(PackedAggregateExec {
            input,
            keys: self.keys.clone(),
            layout: self.layout.clone(),
            accs: self.accs.clone(),
            schema: self.schema.clone(),
            properties: self.properties.clone(),
            metrics: ExecutionPlanMetricsSet::new(),
        }))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context.clone())?;
        let reservation = MemoryConsumer::new(format!("PackedAggregateExec[{partition}]"))
            .with_can_spill(true)
            .register(context.memory_pool());
        let state = Partial {
            input,
            keys: self.keys.clone(),
            read: self.columns_read(),
            accs: self.accs.clone(),
            schema: self.schema.clone(),
            reservation,
            metrics: BaselineMetrics::new(&self.metrics, partition),
            batch_size: context.session_config().batch_size(),
        };
        let layout = self.layout.clone();
        let stream = match layout.words() {
            1 => state.run::<1>(layout),
            2 => state.run::<2>(layout),
            3 => state.run::<3>(layout),
            4 => state.run::<4>(layout),
            5 => state.run::<5>(layout),
            6 => state.run::<6>(layout),
            7 => state.run::<7>(layout),
            _ => state.run::<8>(layout),
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

/// One partition's aggregation.
struct Partial {
    input: SendableRecordBatchStream,
    keys: Vec<usize>,
    /// The columns it reads (checked to hold no null).
    read: Vec<usize>,
    accs: Vec<Acc>,
    schema: SchemaRef,
    reservation: MemoryReservation,
    metrics: BaselineMetrics,
    batch_size: usize,
}

impl Partial {
    /// The batches of the input's groups: emitted whenever the groups fill up, and at the end.
    fn run<const N: usize>(
        self,
        layout: KeyLayout,
    ) -> futures::stream::BoxStream<'static, Result<RecordBatch>> {
        let groups = Groups::<N>::new(layout);
        let start = (self, groups, Vec::<u32>::new(), false);
        let batches =
            futures::stream::try_unfold(start, |(mut s, mut groups, mut ids, done)| async move {
                if done {
                    return Ok(None);
                }
                while let Some(batch) = s.input.next().await {
                    let batch = batch?;
                    let timer = s.metrics.elapsed_compute().timer();
                    let keys: Vec<ArrayRef> =
                        s.keys.iter().map(|&k| batch.column(k).clone()).collect();
                    keys::no_nulls(s.read.iter().map(|&c| batch.column(c)))?;
                    groups.intern(&keys, &mut ids);
                    for acc in &mut s.accs {
                        acc.update(batch.columns(), &ids, groups.len());
                    }
                    let size =
                        groups.memory_size() + s.accs.iter().map(Acc::memory_size).sum::<usize>();
                    let full =
                        groups.len() >= FLUSH_GROUPS || s.reservation.try_resize(size).is_err();
                    timer.done();
                    if full {
                        let out = s.emit(&mut groups)?;
                        return Ok(Some((out, (s, groups, ids, false))));
                    }
                }
                let out = s.emit(&mut groups)?;
                Ok(Some((out, (s, groups, ids, true))))
            });
        batches
            .map(|r: Result<Vec<RecordBatch>>| match r {
                Ok(v) => futures::stream::iter(v.into_iter().map(Ok)).boxed(),
                Err(e) => futures::stream::once(async { Err(e) }).boxed(),
            })
            .flatten()
            .boxed()
    }

    /// All groups as batches of at most `batch_size` rows; the groups are forgotten.
    fn emit<const N: usize>(&mut self, groups: &mut Groups<N>) -> Result<Vec<RecordBatch>> {
        let _timer = self.metrics.elapsed_compute().timer();
        let mut columns = groups.take();
        columns.extend(self.accs.iter_mut().map(Acc::take));
        let all = RecordBatch::try_new(self.schema.clone(), columns)?;
        self.reservation.free();
        let n = all.num_rows();
        let out: Vec<RecordBatch> = (0..n)
            .step_by(self.batch_size.max(1))
            .map(|o| all.slice(o, self.batch_size.min(n - o)))
            .collect();
        self.metrics.record_output(n);
        Ok(out)
    }
}

/// Puts [`PackedAggregateExec`] where it applies (see the module documentation).
#[derive(Debug, Default)]
pub struct PackedGroupRule;

impl PhysicalOptimizerRule for PackedGroupRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(agg) = node.downcast_ref::<AggregateExec>() else {
                return Ok(Transformed::no(node));
            };
            Ok(match packed(agg)? {
                Some(p) => Transformed::yes(p),
                None => Transformed::no(node),
            })
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "PackedGroupRule"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The packed form of `agg`, if it has one.
fn packed(agg: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
    let single = match agg.mode() {
        AggregateMode::Partial => false,
        AggregateMode::Single => true,
        _ => return Ok(None),
    };
    let group = agg.group_expr();
    let plain = group.is_single()
        && group.null_expr().is_empty()
        && agg.limit_options().is_none()
        && *agg.input_order_mode() == InputOrderMode::Linear
        && agg.filter_expr().iter().all(Option::is_none);
    if !plain || group.expr().is_empty() {
        return Ok(None);
    }
    let input_schema = agg.input().schema();
    let int_column = |e: &Arc<dyn PhysicalExpr>| {
        let c = e.downcast_ref::<Column>()?;
        let f = input_schema.fields().get(c.index())?;
        let t = IntType::of(f.data_type())?;
        (!f.is_nullable()).then_some((c.index(), t))
    };
    let keys: Option<Vec<(usize, IntType)>> =
        group.expr().iter().map(|(e, _)| int_column(e)).collect();
    let Some(keys) = keys else { return Ok(None) };
    let aggregates: Option<Vec<PackedAggregate>> = agg
        .aggr_expr()
        .iter()
        .map(|a| aggregate(a, &int_column))
        .collect();
    let Some(aggregates) = aggregates else {
        return Ok(None);
    };
    // the schema to emit: the partial aggregate's (DataFusion's own, for a single one)
    let schema = match single {
        false => agg.schema(),
        true => AggregateExec::try_new(
            AggregateMode::Partial,
            group.clone(),
            agg.aggr_expr().to_vec(),
            agg.filter_expr().to_vec(),
            agg.input().clone(),
            agg.input_schema(),
        )?
        .schema(),
    };
    let Some(packed) = PackedAggregateExec::try_new(agg.input().clone(), keys, aggregates, schema)
    else {
        return Ok(None);
    };
    let packed: Arc<dyn ExecutionPlan> = Arc::new(packed);
    if !single {
        return Ok(Some(packed));
    }
    let final_agg = AggregateExec::try_new(
        AggregateMode::Final,
        group.as_final(),
        agg.aggr_expr().to_vec(),
        agg.filter_expr().to_vec(),
        packed,
        agg.input_schema(),
    )?;
    Ok(Some(Arc::new(final_agg)))
}

/// `min`, `max`, `sum` of a non-nullable integer column, or `count` of one or of a literal
/// that is not null, as plainly as SQL says them (no DISTINCT, no ORDER BY).
fn aggregate(
    a: &AggregateFunctionExpr,
    int_column: &impl Fn(&Arc<dyn PhysicalExpr>) -> Option<(usize, IntType)>,
) -> Option<PackedAggregate> {
    let args = a.expressions();
    if a.is_distinct() || !a.order_bys().is_empty() || args.len() != 1 {
        return None;
    }
    let op = match a.fun().name() {
        "min" => Op::Min,
        "max" => Op::Max,
        "sum" => Op::Sum,
        "count" => Op::Count,
        _ => return None,
    };
    let input = int_column(&args[0]);
    if op == Op::Count && input.is_none() {
        let lit = args[0].downcast_ref::<Literal>()?;
        return (!lit.value().is_null()).then_some(PackedAggregate { op, input: None });
    }
    Some(PackedAggregate {
        op,
        input: Some(input?),
    })
}

#[cfg(test)]
mod tests {
    use arrow::array::{Int8Array, Int64Array, RecordBatch, UInt16Array, UInt32Array, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::{SessionConfig, SessionContext};
    use std::sync::Arc;

    /// `rows` rows in `parts` partitions: keys of few or (`distinct`) many values, negative and
    /// extreme values, sums that wrap; `nullable` declares the key `a` nullable (no nulls).
    fn table(rows: usize, parts: usize, distinct: bool, nullable: bool) -> MemTable {
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::UInt32, nullable),
            Field::new("b", DataType::Int8, false),
            Field::new("c", DataType::UInt16, false),
            Field::new("d", DataType::Int64, false),
            Field::new("e", DataType::UInt64, false),
        ]));
        let batch = |p: usize| {
            let ids: Vec<usize> = (p * rows / parts..(p + 1) * rows / parts).collect();
            let key = |i: usize| if distinct { i } else { i % 37 };
            let columns: Vec<arrow::array::ArrayRef> = vec![
                Arc::new(UInt32Array::from_iter_values(
                    ids.iter()
                        .map(|&i| (key(i) as u32).wrapping_mul(2_654_435_761)),
                )),
                Arc::new(Int8Array::from_iter_values(ids.iter().map(|&i| {
                    (key(i) % 5) as i8 - 2 + if i % 2 == 0 { i8::MIN + 2 } else { 0 }
                }))),
                Arc::new(UInt16Array::from_iter_values(
                    ids.iter().map(|&i| (key(i) % 3) as u16 * 30000),
                )),
                Arc::new(Int64Array::from_iter_values(ids.iter().map(|&i| {
                    if i % 7 == 0 {
                        i64::MIN + i as i64
                    } else {
                        i as i64 - 500
                    }
                }))),
                Arc::new(UInt64Array::from_iter_values(
                    ids.iter().map(|&i| u64::MAX / 3 + i as u64),
                )),
            ];
            RecordBatch::try_new(schema.clone(), columns).unwrap()
        };
        // each partition in batches of 1000 rows
        let partitions = (0..parts)
            .map(|p| {
                let b = batch(p);
                (0..b.num_rows())
                    .step_by(1000)
                    .map(|o| b.slice(o, 1000.min(b.num_rows() - o)))
                    .collect()
            })
            .collect();
        MemTable::try_new(schema, partitions).unwrap()
    }

    async fn run(ctx: &SessionContext, sql: &str) -> (String, String) {
        let plan = ctx
            .sql(&format!("EXPLAIN {sql}"))
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let plan = arrow::util::pretty::pretty_format_batches(&plan)
            .unwrap()
            .to_string();
        let out = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        (
            plan,
            arrow::util::pretty::pretty_format_batches(&out)
                .unwrap()
                .to_string(),
        )
    }

    /// The same query on DataFusion's own grouping and on the packed one: the same rows.
    async fn same_as_datafusion(
        t: fn() -> MemTable,
        target_partitions: usize,
        sql: &str,
    ) -> String {
        let config = SessionConfig::new().with_target_partitions(target_partitions);
        let plain = SessionContext::new_with_config(config.clone());
        let state = crate::with_rules(
            datafusion::execution::SessionStateBuilder::new()
                .with_config(config)
                .with_default_features(),
        )
        .build();
        let packed = SessionContext::new_with_state(state);
        plain.register_table("t", Arc::new(t())).unwrap();
        packed.register_table("t", Arc::new(t())).unwrap();
        let (plain_plan, want) = run(&plain, sql).await;
        let (plan, got) = run(&packed, sql).await;
        assert!(!plain_plan.contains("PackedAggregateExec"));
        assert_eq!(got, want, "{plan}");
        plan
    }

    const FEW: &str = "SELECT a, b, c, min(d), max(d), sum(d), sum(e), count(*), count(a), min(b), max(b), \
        max(c) FROM t GROUP BY a, b, c ORDER BY a, b, c";
    const WIDE: &str = "SELECT b, e, a, d, c, sum(e), count(*) FROM t GROUP BY b, e, a, d, c \
        ORDER BY sum(e) DESC, b, e, a, d, c LIMIT 20";

    #[tokio::test]
    async fn packed_grouping_gives_datafusions_rows() {
        let few = || table(20_000, 3, false, false);
        for partitions in [1, 3] {
            let plan = same_as_datafusion(few, partitions, FEW).await;
            assert!(
                plan.contains("PackedAggregateExec: gby=[a, b, c]"),
                "{plan}"
            );
            assert!(plan.contains("key words=1"), "{plan}");
            let plan = same_as_datafusion(few, partitions, WIDE).await;
            assert!(plan.contains("key words=3"), "{plan}");
        }
        // a nullable key, an aggregate it does not compute: DataFusion's own grouping
        let plan = same_as_datafusion(|| table(5_000, 2, false, true), 2, FEW).await;
        assert!(!plan.contains("PackedAggregateExec"), "{plan}");
        let avg = "SELECT b, avg(d) FROM t GROUP BY b ORDER BY b";
        let plan = same_as_datafusion(few, 2, avg).await;
        assert!(!plan.contains("PackedAggregateExec"), "{plan}");
    }

    #[tokio::test]
    async fn more_groups_than_a_partial_holds_are_emitted_and_merged() {
        // every row its own group: the partial starts afresh past FLUSH_GROUPS groups
        let many = || table(super::FLUSH_GROUPS + 30_000, 1, true, false);
        let sql = "SELECT count(*), sum(n), min(s), max(s) FROM \
            (SELECT c, b, count(*) AS n, sum(d) AS s FROM t GROUP BY c, b, a)";
        for partitions in [1, 2] {
            let plan = same_as_datafusion(many, partitions, sql).await;
            assert!(plan.contains("PackedAggregateExec"), "{plan}");
        }
    }
}
