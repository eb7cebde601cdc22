//! What the flow file formats share, written once: their listing tables, the `FileFormat`
//! methods common to all (`file_format!`) and the `FileSource` over each format's opener.

use crate::plan_data::FileKind;
use arrow::datatypes::SchemaRef;
use datafusion::catalog::{ScanArgs, ScanResult, Session, TableProvider};
use datafusion::common::Constraints;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, not_impl_err, plan_err};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, TableType};
use datafusion::physical_expr::{LexOrdering, LexRequirement, PhysicalExpr};
use datafusion::physical_plan::filter_pushdown::{FilterPushdownPropagation, PushedDown};
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::projection::ProjectionExprs;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use datafusion_datasource::TableSchema;
use datafusion_datasource::file::FileSource;
use datafusion_datasource::file_format::FileFormat;
use datafusion_datasource::file_groups::FileGroupPartitioner;
use datafusion_datasource::file_scan_config::FileScanConfig;
use datafusion_datasource::file_sink_config::FileSinkConfig;
use datafusion_datasource::file_stream::FileOpener;
use datafusion_datasource::projection::{ProjectionOpener, SplitProjection};
use object_store::ObjectStore;
use std::collections::HashMap;
use std::sync::Arc;

/// A listing table of `format` over `urls`, with the format's fixed `schema`. Every listed file
/// is read, whatever its name: flow files carry no conventional extension.
pub(crate) fn listing_table(
    format: Arc<dyn FileFormat>,
    schema: SchemaRef,
    urls: Vec<ListingTableUrl>,
) -> Result<ListingTable> {
    let options = ListingOptions::new(format).with_file_extension("");
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    ListingTable::try_new(config)
}

/// A listing table of one of our formats that says which (a codec ships it as its format and
/// URLs, [`FileKind`]; DataFusion's own encoding of listing tables knows only its built-in
/// formats). Everything else is the listing table's.
#[derive(Debug, Clone)]
pub struct FlowListing {
    table: ListingTable,
    kind: FileKind,
}

impl FlowListing {
    /// `table`, if its format is one of ours.
    pub fn new(table: ListingTable) -> Option<Self> {
        let kind = FileKind::of_format(table.options().format.as_ref())?;
        Some(Self { table, kind })
    }

    /// `table`, whose format is `kind`.
    pub(crate) fn known(table: ListingTable, kind: FileKind) -> Self {
        Self { table, kind }
    }

    /// The listing of `kind` over `urls` ([`FlowListing::urls`] of another process's table).
    pub fn reopen(kind: FileKind, urls: &[String]) -> Result<Self> {
        let table = kind.clone().listing(urls)?;
        Ok(Self { table, kind })
    }

    pub fn kind(&self) -> FileKind {
        self.kind.clone()
    }

    /// The listed locations, as URLs.
    pub fn urls(&self) -> Vec<String> {
        (self.table.table_paths().iter())
            .map(|u| u.as_str().to_string())
            .collect()
    }
}

#[async_trait::async_trait]
impl TableProvider for FlowListing {
    fn schema(&self) -> SchemaRef {
        self.table.schema()
    }

    fn constraints(&self) -> Option<&Constraints> {
        self.table.constraints()
    }

    fn table_type(&self) -> TableType {
        self.table.table_type()
    }

    fn get_column_default(&self, column: &str) -> Option<&Expr> {
        self.table.get_column_default(column)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.table.scan(state, projection, filters, limit).await
    }

    async fn scan_with_args<'a>(
        &self,
        state: &dyn Session,
        args: ScanArgs<'a>,
    ) -> Result<ScanResult> {
        self.table.scan_with_args(state, args).await
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        self.table.supports_filters_pushdown(filters)
    }

    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.table.insert_into(state, input, insert_op).await
    }
}

/// Refuses `OPTIONS (…)` for format `name`, which takes none.
pub(crate) fn no_options(name: &str, options: &HashMap<String, String>) -> Result<()> {
    match options.keys().next() {
        Some(k) => plan_err!("{name} takes no options (got '{k}')"),
        None => Ok(()),
    }
}

/// What a flow format's `FileFormat` says for itself; [`file_format!`] writes the rest.
pub(crate) trait FlowFormat {
    /// What opens its files in a scan.
    type Factory: OpenerFactory;

    fn opener_factory(&self) -> Self::Factory;

    /// The columns of its files (fixed for each format), or why listings cannot read them.
    fn schema(&self) -> Result<SchemaRef>;

    /// The plan of `COPY … STORED AS` the format; by default DataFusion's own refusal.
    fn writer(
        &self,
        _input: Arc<dyn ExecutionPlan>,
        _conf: FileSinkConfig,
        _order_requirements: Option<LexRequirement>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        not_impl_err!("Writer not implemented for this format")
    }
}

/// `impl FileFormat for $format` from its [`FlowFormat`]: no file extension, no compression,
/// the format's schema, no statistics before reading, a `DataSourceExec` over a [`FlowSource`].
macro_rules! file_format {
    ($format:ty) => {
        #[async_trait::async_trait]
        impl datafusion_datasource::file_format::FileFormat for $format {
            /// Flow files carry no conventional extension (nfdump pipe dumps, `*.csv`,
            /// collector files named `nfcapd.YYYYMMDDhhmm`, none at all), so every file of a
            /// listed directory is read.
            fn get_ext(&self) -> String {
                String::new()
            }

            fn get_ext_with_compression(
                &self,
                _c: &datafusion_datasource::file_compression_type::FileCompressionType,
            ) -> datafusion::common::Result<String> {
                Ok(String::new())
            }

            fn compression_type(
                &self,
            ) -> Option<datafusion_datasource::file_compression_type::FileCompressionType> {
                None
            }

            async fn infer_schema(
                &self,
                _state: &dyn datafusion::catalog::Session,
                _store: &std::sync::Arc<dyn object_store::ObjectStore>,
                _objects: &[object_store::ObjectMeta],
            ) -> datafusion::common::Result<arrow::datatypes::SchemaRef> {
                $crate::listing::FlowFormat::schema(self)
            }

            async fn infer_stats(
                &self,
                _state: &dyn datafusion::catalog::Session,
                _store: &std::sync::Arc<dyn object_store::ObjectStore>,
                table_schema: arrow::datatypes::SchemaRef,
                _object: &object_store::ObjectMeta,
            ) -> datafusion::common::Result<datafusion::common::Statistics> {
                $crate::listing::FlowFormat::schema(self)?;
                Ok(datafusion::common::Statistics::new_unknown(&table_schema))
            }

            async fn create_physical_plan(
                &self,
                _state: &dyn datafusion::catalog::Session,
                conf: datafusion_datasource::file_scan_config::FileScanConfig,
            ) -> datafusion::common::Result<
                std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
            > {
                $crate::listing::FlowFormat::schema(self)?;
                Ok(
                    datafusion_datasource::source::DataSourceExec::from_data_source(
                        datafusion_datasource::file_scan_config::FileScanConfigBuilder::from(conf)
                            .build(),
                    ),
                )
            }

            async fn create_writer_physical_plan(
                &self,
                input: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
                _state: &dyn datafusion::catalog::Session,
                conf: datafusion_datasource::file_sink_config::FileSinkConfig,
                order_requirements: Option<datafusion::physical_expr::LexRequirement>,
            ) -> datafusion::common::Result<
                std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
            > {
                $crate::listing::FlowFormat::writer(self, input, conf, order_requirements)
            }

            fn file_source(
                &self,
                table_schema: datafusion_datasource::TableSchema,
            ) -> std::sync::Arc<dyn datafusion_datasource::file::FileSource> {
                let opener = $crate::listing::FlowFormat::opener_factory(self);
                std::sync::Arc::new($crate::listing::FlowSource::new(opener, table_schema))
            }
        }
    };
}
pub(crate) use file_format;

/// How a format opens its files for one partition of a scan; [`FlowSource`] does the rest.
pub trait OpenerFactory: Clone + Send + Sync + 'static {
    /// The format's name in plans.
    fn file_type(&self) -> &'static str;

    /// Whether one file may be split into byte ranges read by different partitions: local
    /// files (`local`), or objects in a store too.
    fn splits_files(&self, local: bool) -> bool {
        local
    }

    fn opener(&self, scan: OpenerArgs) -> Result<Arc<dyn FileOpener>>;

    /// The factory with what it takes from `filters` (conjuncts over the table's columns),
    /// and for each filter whether the scan now answers it exactly (`PushedDown::Yes`: rows
    /// failing it never leave the scan, DataFusion drops its own filter) or it still runs
    /// above the scan (`No`: what was taken only lets the scan skip data no row passing it
    /// is in). `None` when it takes nothing.
    fn with_filters(&self, _filters: &[Arc<dyn PhysicalExpr>]) -> Option<(Self, Vec<PushedDown>)> {
        None
    }

    /// What EXPLAIN shows of the factory beside the scan's files.
    fn fmt_extra(&self, _f: &mut std::fmt::Formatter) -> std::fmt::Result {
        Ok(())
    }
}

/// How a scanned file is named in messages: its path for a local file (`/data/x.csv`, where
/// the object location alone would lose the leading `/`), its URL in any other store
/// (`s3://bucket/text/x.csv`).
pub fn file_display_name(
    store_url: &ObjectStoreUrl,
    location: &object_store::path::Path,
) -> String {
    match store_url.as_str() {
        "file:///" => format!("/{location}"),
        url => format!("{url}{location}"),
    }
}

/// What a partition of a scan gives the opener of its files.
pub struct OpenerArgs<'a> {
    pub store: Arc<dyn ObjectStore>,
    /// The URL of `store` (`s3://bucket/`, `file:///`): a file's URL is this and its location.
    pub store_url: &'a ObjectStoreUrl,
    /// The columns of the files.
    pub file_schema: &'a SchemaRef,
    /// The file columns the projection needs (indices into `file_schema`); the opener emits
    /// only these, in this order ([`ProjectionOpener`] computes the rest of the projection).
    pub columns: &'a [usize],
    pub batch_size: usize,
    /// The scan's metrics and the partition whose counters these are.
    pub metrics: &'a ExecutionPlanMetricsSet,
    pub partition: usize,
}

/// The `FileSource` of a flow format whose files `F` opens: it keeps what DataFusion hands a
/// source (projection, batch size, metrics) and applies the projection the opener leaves.
#[derive(Clone)]
pub struct FlowSource<F> {
    opener: F,
    table_schema: TableSchema,
    projection: SplitProjection,
    batch_size: Option<usize>,
    metrics: ExecutionPlanMetricsSet,
}

impl<F> FlowSource<F> {
    pub fn new(opener: F, table_schema: TableSchema) -> Self {
        Self {
            opener,
            projection: SplitProjection::unprojected(&table_schema),
            table_schema,
            batch_size: None,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl<F> FlowSource<F> {
    /// What opens its files.
    pub fn factory(&self) -> &F {
        &self.opener
    }
}

impl<F: OpenerFactory> FileSource for FlowSource<F> {
    fn create_file_opener(
        &self,
        object_store: Arc<dyn ObjectStore>,
        base_config: &FileScanConfig,
        partition: usize,
    ) -> Result<Arc<dyn FileOpener>> {
        let file_schema = self.table_schema.file_schema();
        let opener = self.opener.opener(OpenerArgs {
            store: object_store,
            store_url: &base_config.object_store_url,
            file_schema,
            columns: &self.projection.file_indices,
            batch_size: self.batch_size.unwrap_or(8192),
            metrics: &self.metrics,
            partition,
        })?;
        ProjectionOpener::try_new(self.projection.clone(), opener, file_schema)
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, batch_size: usize) -> Arc<dyn FileSource> {
        let mut s = self.clone();
        s.batch_size = Some(batch_size);
        Arc::new(s)
    }

    fn supports_repartitioning(&self) -> bool {
        self.opener.splits_files(true)
    }

    /// Splits files into byte ranges (DataFusion's default) where the format reads a range on
    /// its own ([`OpenerFactory::splits_files`]): text lines anywhere, nfcapd blocks only in a
    /// local file (byte ranges of an object would each have to find their first block by reads
    /// from its start, so an object is read whole by one partition, in one sequential GET, and
    /// decoded in parallel within it). Files stay the unit of parallelism of objects, spread
    /// over the partitions by the listing.
    fn repartitioned(
        &self,
        target_partitions: usize,
        repartition_file_min_size: usize,
        output_ordering: Option<LexOrdering>,
        config: &FileScanConfig,
    ) -> Result<Option<FileScanConfig>> {
        let local = config.object_store_url.as_str().starts_with("file://");
        if config.file_compression_type.is_compressed() || !self.opener.splits_files(local) {
            return Ok(None);
        }
        let groups = FileGroupPartitioner::new()
            .with_target_partitions(target_partitions)
            .with_repartition_file_min_size(repartition_file_min_size)
            .with_preserve_order_within_groups(output_ordering.is_some())
            .repartition_file_groups(&config.file_groups);
        Ok(groups.map(|file_groups| {
            let mut config = config.clone();
            config.file_groups = file_groups;
            config
        }))
    }

    fn try_pushdown_projection(
        &self,
        projection: &ProjectionExprs,
    ) -> Result<Option<Arc<dyn FileSource>>> {
        let mut s = self.clone();
        let merged = self.projection.source.try_merge(projection)?;
        s.projection = SplitProjection::new(self.table_schema.file_schema(), &merged);
        Ok(Some(Arc::new(s)))
    }

    fn projection(&self) -> Option<&ProjectionExprs> {
        Some(&self.projection.source)
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        self.opener.file_type()
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.opener.fmt_extra(f)
    }

    /// What the factory takes of the filters ([`OpenerFactory::with_filters`]); the others
    /// stay above the scan.
    fn try_pushdown_filters(
        &self,
        filters: Vec<Arc<dyn PhysicalExpr>>,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn FileSource>>> {
        Ok(match self.opener.with_filters(&filters) {
            Some((opener, pushed)) => {
                let mut s = self.clone();
                s.opener = opener;
                FilterPushdownPropagation::with_parent_pushdown_result(pushed)
                    .with_updated_node(Arc::new(s) as _)
            }
            None => FilterPushdownPropagation::with_parent_pushdown_result(vec![
                PushedDown::No;
                filters.len()
            ]),
        })
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        datafusion::physical_plan::apply_expression_roots(self.projection.source.iter(), f)
    }
}
