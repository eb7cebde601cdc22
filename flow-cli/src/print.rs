//! What `sql -c` / `-f` print (nested columns as text in csv, tsv and the table, as
//! `flow_udfs::text_columns` writes them; json and nd-json keep them nested). The machine formats (csv, tsv, json, ndjson) stream every row of
//! a result to standard output batch by batch, whatever `--maxrows` says; the table display
//! keeps at most `--maxrows` rows and says on stderr when it left rows out (even with `-q`).
//! datafusion-cli collects non-table results up to `--maxrows` too, which silently cut exports
//! to 8 192 or 16 384 rows: so this loop over statements is ours.

use crate::stdout::Stdout;
use arrow::csv::WriterBuilder;
use arrow::json::{ArrayWriter, LineDelimitedWriter};
use arrow::record_batch::RecordBatch;
use arrow::util::pretty::pretty_format_batches_with_options;
use datafusion::common::{Result, plan_datafusion_err};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::dialect::dialect_from_str;
use datafusion_cli::print_format::PrintFormat;
use datafusion_cli::print_options::MaxRows;
use flow_udfs::text_columns::{flat_batch, flat_schema};
use futures::StreamExt;
use std::io::{BufWriter, Write};
use std::time::Instant;

/// How results are printed: the `sql` flags.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: PrintFormat,
    pub quiet: bool,
    pub maxrows: MaxRows,
}

impl Printer {
    /// Runs the statements of `sql` one after the other, printing each result; the first error
    /// stops them. Counts and timings go to stderr unless `quiet`, so standard output holds
    /// results only.
    pub async fn run(&self, ctx: &SessionContext, sql: &str) -> Result<()> {
        for statement in parse(ctx, sql)? {
            let start = Instant::now();
            let plan = plan(ctx, statement).await?;
            // EXPLAIN and DESCRIBE are read whole, as datafusion-cli shows them.
            let whole = matches!(
                plan,
                LogicalPlan::Explain(_) | LogicalPlan::Analyze(_) | LogicalPlan::DescribeTable(_)
            );
            let stream = ctx
                .execute_logical_plan(plan)
                .await?
                .execute_stream()
                .await?;
            let rows = self.print(stream, whole).await?;
            if !self.quiet {
                eprintln!(
                    "{rows} row(s) fetched.\nElapsed {:.3} seconds.\n",
                    start.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }

    /// Prints one result; returns its number of rows.
    async fn print(&self, stream: SendableRecordBatchStream, whole: bool) -> Result<u64> {
        let mut out = BufWriter::with_capacity(1 << 20, Stdout);
        if stream.schema().fields().is_empty() {
            // A statement without a result (SET, CREATE …): nothing to print.
            return for_each(stream, |_| Ok(())).await;
        }
        let rows = match self.format {
            PrintFormat::Table | PrintFormat::Automatic => {
                let maxrows = if whole {
                    MaxRows::Unlimited
                } else {
                    self.maxrows
                };
                print_table(stream, maxrows, &mut out).await?
            }
            PrintFormat::Csv => print_csv(stream, b',', &mut out).await?,
            PrintFormat::Tsv => print_csv(stream, b'\t', &mut out).await?,
            PrintFormat::Json => {
                let mut writer = ArrayWriter::new(&mut out);
                let rows = for_each(stream, |b| Ok(writer.write(b)?)).await?;
                writer.finish()?;
                writeln!(out)?;
                rows
            }
            PrintFormat::NdJson => {
                let mut writer = LineDelimitedWriter::new(&mut out);
                let rows = for_each(stream, |b| Ok(writer.write(b)?)).await?;
                writer.finish()?;
                rows
            }
        };
        out.flush()?;
        Ok(rows)
    }
}

/// `statement` planned in `ctx`, after the object store of its `CREATE EXTERNAL TABLE …
/// LOCATION` or `COPY … TO` URL is registered (from the `AWS_*` environment, as
/// datafusion-cli's shell does).
pub(crate) async fn plan(ctx: &SessionContext, mut statement: Statement) -> Result<LogicalPlan> {
    crate::stores::register(ctx, &mut statement).await?;
    ctx.state().statement_to_plan(statement).await
}

/// The statements of `sql`, parsed in the session's SQL dialect.
pub(crate) fn parse(ctx: &SessionContext, sql: &str) -> Result<Vec<Statement>> {
    let state = ctx.state();
    let dialect = &state.config().options().sql_parser.dialect;
    let parser = dialect_from_str(dialect)
        .ok_or_else(|| plan_datafusion_err!("unsupported SQL dialect: {dialect}"))?;
    Ok(DFParser::parse_sql_with_dialect(sql, parser.as_ref())?.into())
}

/// Hands every batch of `stream` to `f`; returns the number of rows.
async fn for_each(
    mut stream: SendableRecordBatchStream,
    mut f: impl FnMut(&RecordBatch) -> Result<()>,
) -> Result<u64> {
    let mut rows = 0;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        rows += batch.num_rows() as u64;
        f(&batch)?;
    }
    Ok(rows)
}

/// Delimited text with a header line, also when the result has no rows.
async fn print_csv(
    stream: SendableRecordBatchStream,
    delimiter: u8,
    out: &mut impl Write,
) -> Result<u64> {
    let schema = flat_schema(&stream.schema());
    let mut writer = WriterBuilder::new()
        .with_header(true)
        .with_delimiter(delimiter)
        .build(out);
    // The header goes out with the first write, so an empty batch first gives it in any case.
    writer.write(&RecordBatch::new_empty(schema))?;
    for_each(stream, |b| Ok(writer.write(&flat_batch(b.clone())?)?)).await
}

/// A table of the first `maxrows` rows; the rest are counted, not kept.
async fn print_table(
    stream: SendableRecordBatchStream,
    maxrows: MaxRows,
    out: &mut impl Write,
) -> Result<u64> {
    let limit = match maxrows {
        MaxRows::Unlimited => usize::MAX,
        MaxRows::Limited(n) => n,
    };
    let schema = flat_schema(&stream.schema());
    let mut kept = vec![RecordBatch::new_empty(schema.clone())];
    let mut shown = 0;
    let rows = for_each(stream, |batch| {
        let take = batch.num_rows().min(limit - shown);
        if take > 0 {
            kept.push(flat_batch(batch.slice(0, take))?);
            shown += take;
        }
        Ok(())
    })
    .await?;
    if limit > 0 {
        let options = Default::default();
        writeln!(
            out,
            "{}",
            pretty_format_batches_with_options(&kept, &options)?
        )?;
    }
    if rows > shown as u64 {
        eprintln!(
            "flow-models sql: showing {shown} of {rows} rows (--maxrows inf shows all; \
             --format csv, tsv, json or nd-json prints every row)"
        );
    }
    Ok(rows)
}
