//! Runs every `sql/*.slt` file against a session with everything registered, so SQL behaviour
//! is specified as readable text next to its expected output.
//! `FLOW_SLT_COMPLETE=1 cargo test --test sqllogictests` rewrites the expected outputs.

use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_sqllogictest::{DataFusion, df_value_validator, value_normalizer};
use indicatif::ProgressBar;
use sqllogictest::{Runner, strict_column_validator};
use std::path::{Path, PathBuf};

fn context() -> SessionContext {
    // Two partitions, like the CI machine's cores, so plans and results don't depend on the host.
    let config = SessionConfig::new().with_target_partitions(2);
    let runtime = std::sync::Arc::new(datafusion::execution::runtime_env::RuntimeEnv::default());
    flow_models::context(config, runtime)
        .expect("flow_models::context")
        .enable_url_table()
}

async fn run_file(path: &Path, complete: bool) -> Result<(), String> {
    let relative = PathBuf::from(path.file_name().unwrap_or_default());
    let mut runner = Runner::new(move || {
        let relative = relative.clone();
        async move { Ok(DataFusion::new(context(), relative, ProgressBar::hidden())) }
    });
    runner.with_column_validator(strict_column_validator);
    runner.with_normalizer(value_normalizer);
    runner.with_validator(df_value_validator);
    if complete {
        runner
            .update_test_file(
                path,
                " ",
                df_value_validator,
                value_normalizer,
                strict_column_validator,
            )
            .await
            .map_err(|e| e.to_string())
    } else {
        runner
            .run_file_async(path)
            .await
            .map_err(|e| e.display(false).to_string())
    }
}

#[tokio::main]
async fn main() {
    let complete = std::env::var_os("FLOW_SLT_COMPLETE").is_some();
    let mut files: Vec<PathBuf> = std::fs::read_dir("sql")
        .expect("sql/ directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    let (mut passed, mut failed) = (0, 0);
    for file in &files {
        match run_file(file, complete).await {
            Ok(()) => {
                passed += 1;
                println!("ok {}", file.display());
            }
            Err(e) => {
                failed += 1;
                println!("FAILED {}:\n{e}", file.display());
            }
        }
    }
    println!("sqllogictests: {passed} passed, {failed} failed");
    if failed > 0 || files.is_empty() {
        std::process::exit(1);
    }
}
