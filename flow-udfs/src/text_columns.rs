//! Nested columns as text, for the outputs that have no nested values (CSV, TSV, the table
//! display): nfcapd's MPLS stack (`FixedSizeList(UInt32, 10)`, `mpls_labels`) as nfdump prints
//! it (`mpls_text`), any other nested value as Arrow displays it (`[1, 2]`, `{w0: 1, …}`).
//! [`flat_batch`] does it to batches (`flow-models sql --format csv|tsv|table`);
//! [`NestedAsText`] to the input of a `COPY … STORED AS CSV` (DataFusion's CSV writer rejects
//! nested columns), [`ResultsAsText`] to every query of the interactive shell in csv/tsv.
//! JSON and Parquet write nested columns as they are.

use crate::udf::mpls_text_array;
use arrow::array::{ArrayRef, RecordBatch, StringBuilder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{Column, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use std::fmt::Write;
use std::sync::Arc;

/// nfcapd's MPLS stack type.
fn is_mpls(t: &DataType) -> bool {
    matches!(t, DataType::FixedSizeList(f, 10) if f.data_type() == &DataType::UInt32)
}

/// `array` as text when it is nested (`None` when it is not: kept as it is).
pub fn column_text(array: &ArrayRef) -> Result<Option<ArrayRef>> {
    let t = array.data_type();
    if !t.is_nested() {
        return Ok(None);
    }
    if is_mpls(t) {
        return Ok(Some(mpls_text_array(array)?));
    }
    let formatter = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
    let mut out = StringBuilder::with_capacity(array.len(), array.len() * 16);
    for row in 0..array.len() {
        if array.is_null(row) {
            out.append_null();
        } else {
            write!(out, "{}", formatter.value(row))
                .map_err(|e| datafusion::common::DataFusionError::External(Box::new(e)))?;
            out.append_value("");
        }
    }
    Ok(Some(Arc::new(out.finish())))
}

/// `schema` with every nested column as a nullable Utf8 one.
pub fn flat_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type().is_nested() {
            true => Field::new(f.name(), DataType::Utf8, true),
            false => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `batch` with every nested column as text (see the module comment).
pub fn flat_batch(batch: RecordBatch) -> Result<RecordBatch> {
    let schema = flat_schema(batch.schema_ref());
    if Arc::ptr_eq(&schema, batch.schema_ref()) {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .map(|c| Ok(column_text(c)?.unwrap_or_else(|| c.clone())))
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// The function the rewritten `COPY` applies to a nested column: [`column_text`].
#[derive(Debug, PartialEq, Eq, Hash)]
struct NestedText {
    signature: Signature,
}

impl ScalarUDFImpl for NestedText {
    fn name(&self) -> &str {
        "nested_text"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = args.args[0].to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(column_text(&array)?.unwrap_or(array)))
    }
}

/// `COPY … STORED AS CSV` of a query with nested columns writes them as text (see the module
/// comment) instead of failing: an analyzer rule in every session of this project.
#[derive(Debug, Default)]
pub struct NestedAsText;

impl AnalyzerRule for NestedAsText {
    fn name(&self) -> &str {
        "flow_nested_as_text"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up(|plan| {
            let LogicalPlan::Copy(mut copy) = plan else {
                return Ok(Transformed::no(plan));
            };
            if !copy.file_type.get_ext().eq_ignore_ascii_case("csv") {
                return Ok(Transformed::no(LogicalPlan::Copy(copy)));
            }
            match as_text(&copy.input)? {
                Some(input) => {
                    copy.input = Arc::new(input);
                    Ok(Transformed::yes(LogicalPlan::Copy(copy)))
                }
                None => Ok(Transformed::no(LogicalPlan::Copy(copy))),
            }
        })
        .data()
    }
}

/// The results of queries with their nested columns as text: for a display that prints
/// them through a writer without nested values (the interactive `flow-models sql --format
/// csv|tsv`, whose printer is datafusion-cli's). Statements other than queries are left alone.
#[derive(Debug, Default)]
pub struct ResultsAsText;

impl AnalyzerRule for ResultsAsText {
    fn name(&self) -> &str {
        "flow_results_as_text"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        use LogicalPlan::*;
        if matches!(
            plan,
            Copy(_) | Ddl(_) | Dml(_) | Explain(_) | Analyze(_) | Statement(_) | DescribeTable(_)
        ) {
            return Ok(plan);
        }
        Ok(as_text(&plan)?.unwrap_or(plan))
    }
}

/// `plan` under a projection that turns its nested columns into text (`nested_text`), `None`
/// when it has none.
fn as_text(plan: &LogicalPlan) -> Result<Option<LogicalPlan>> {
    let schema = plan.schema().clone();
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(None);
    }
    let udf = Arc::new(ScalarUDF::from(NestedText {
        signature: Signature::any(1, Volatility::Immutable),
    }));
    let exprs: Vec<Expr> = schema
        .iter()
        .map(|(qualifier, field)| {
            let column = Expr::Column(Column::from((qualifier, field)));
            match field.data_type().is_nested() {
                true => udf.call(vec![column]).alias(field.name()),
                false => column,
            }
        })
        .collect();
    Ok(Some(
        LogicalPlanBuilder::from(plan.clone())
            .project(exprs)?
            .build()?,
    ))
}
