//! Object stores for the locations of a statement (`sql -c`, `plot --sql`): `CREATE EXTERNAL
//! TABLE … LOCATION 's3://…'` and `COPY … TO 's3://…'` get the store of their bucket before
//! planning. The store comes from the environment (`AWS_*`, see `flow_provider::store`) or,
//! for `CREATE EXTERNAL TABLE … OPTIONS ('aws.endpoint' '…', 'aws.access_key_id' '…', …)`,
//! from those options, read by datafusion-cli's own `AwsOptions` and S3 builder as
//! datafusion-cli users write them. The `aws.*` options configure the store and are taken out
//! of the statement: the table formats see the rest.

use datafusion::common::Result;
use datafusion::config::ExtensionOptions;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::Value;
use datafusion_cli::object_storage::{AwsOptions, get_s3_object_store_builder};
use flow_provider::store::{ensure_store, ensure_stores, remote_url};
use std::sync::Arc;

pub(crate) async fn register(ctx: &SessionContext, statement: &mut Statement) -> Result<()> {
    let runtime = ctx.runtime_env();
    match statement {
        Statement::CreateExternalTable(t) => {
            let mut aws = AwsOptions::default();
            let mut given = false;
            for (key, value) in &t.options {
                if let Some(name) = key.strip_prefix("aws.") {
                    aws.set(&format!("aws.{name}"), &option_text(value))?;
                    given = true;
                }
            }
            t.options.retain(|(key, _)| !key.starts_with("aws."));
            if !given {
                return ensure_stores(&runtime, &t.locations);
            }
            for location in &t.locations {
                let Some(url) = remote_url(location).filter(|u| matches!(u.scheme(), "s3" | "s3a"))
                else {
                    continue;
                };
                let store = get_s3_object_store_builder(&url, &aws, false)
                    .await?
                    .build()?;
                let root =
                    ObjectStoreUrl::parse(format!("{}://{}", url.scheme(), url.authority()))?;
                runtime.register_object_store(root.as_ref(), Arc::new(store));
            }
            ensure_stores(&runtime, &t.locations)
        }
        Statement::CopyTo(c) => ensure_store(&runtime, &c.target),
        _ => Ok(()),
    }
}

/// An option's value as text (`'http://…'` → `http://…`), as DataFusion reads options.
fn option_text(value: &Value) -> String {
    match value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
        Value::Number(n, _) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}
