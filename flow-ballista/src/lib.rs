//! flow-models on a Ballista cluster (DataFusion's distributed engine): the codecs of this
//! project's plan nodes ([`codec`]), the scheduler and executor processes with them and every
//! flow function registered ([`run_scheduler`], [`run_executor`]; the stock Ballista binaries
//! cannot decode our plans), and a client session ([`remote_context`]).
//!
//! A query is planned on the client (table functions are expanded there), its logical plan is
//! sent to the scheduler, which plans it physically (calling our providers' `scan()`: it needs
//! the inputs too) and sends stages to the executors, which read the inputs themselves (the same
//! paths or object-store URLs).

pub mod codec;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use codec::{FlowLogicalCodec, FlowPhysicalCodec};
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};
use flow_udfs::sort::FlowSortRule;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

fn ballista_error(what: &str, e: impl std::fmt::Display) -> DataFusionError {
    DataFusionError::Execution(format!("{what}: {e}"))
}

/// A session whose queries run on the cluster of the scheduler at `url` (`df://host:port`),
/// with every flow format and function registered and our codecs installed.
pub async fn remote_context(
    url: &str,
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> Result<SessionContext> {
    let config = config
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(Arc::new(FlowLogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(FlowPhysicalCodec::default()));
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    let unreachable =
        |e: &dyn std::fmt::Display| ballista_error(&format!("the scheduler at {url}"), e);
    // Ballista connects at the first query; a scheduler that is not there is said at once.
    let parsed = url::Url::parse(url).map_err(|e| unreachable(&e))?;
    let host = parsed.host_str().unwrap_or("localhost").to_string();
    let port = parsed.port().unwrap_or(50050);
    tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|e| unreachable(&e))?;
    let ctx = SessionContext::remote_with_state(url, state)
        .await
        .map_err(|e| unreachable(&e))?;
    // After the upgrade: it replaces the session's functions with Ballista's.
    flow_udfs::register_all(&ctx)?;
    Ok(ctx)
}

/// The scheduler's session for a query: Ballista's, with every flow function registered and
/// `ORDER BY` over a trace made stable (`FlowSortRule::distributed`). Jobs are planned by
/// Ballista's static planner, which runs the session's physical optimizer rules: its adaptive
/// planner (AQE, on by default in Ballista 55) plans stages with a fixed list of rules of its
/// own (`state/aqe/planner.rs`), so a job would run a plan other than the one `EXPLAIN` shows:
/// DataFusion's unstable sort, and a `COPY` of `flow_sort` whose ties lose their order.
fn scheduler_session(config: SessionConfig) -> Result<SessionState> {
    let config = config.with_ballista_adaptive_query_planner(false);
    let state = ballista_core::utils::default_session_builder(config)?;
    let state = SessionStateBuilder::new_from_existing(state)
        .with_physical_optimizer_rule(Arc::new(FlowSortRule::distributed()))
        .build();
    let ctx = SessionContext::new_with_state(state);
    flow_udfs::register_all(&ctx)?;
    Ok(ctx.state())
}

/// Every function an executor may find in a plan: DataFusion's, Ballista's and ours.
fn function_registry() -> Result<BallistaFunctionRegistry> {
    let state = scheduler_session(SessionConfig::new_with_ballista())?;
    Ok(BallistaFunctionRegistry::from(&state))
}

/// How a scheduler runs.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Where it listens (gRPC, for clients and executors).
    pub bind: SocketAddr,
    /// An executor silent for this long is taken as dead (its tasks rescheduled or failed).
    pub executor_timeout_seconds: u64,
}

/// Runs a scheduler until the process is stopped.
pub async fn run_scheduler(options: SchedulerOptions) -> Result<()> {
    let host = options.bind.ip().to_string();
    let timeout = options.executor_timeout_seconds.max(1);
    let config = SchedulerConfig {
        bind_host: host.clone(),
        bind_port: options.bind.port(),
        external_host: host,
        executor_timeout_seconds: timeout,
        expire_dead_executor_interval_seconds: timeout.min(15),
        no_executors_grace_period_seconds: timeout,
        override_logical_codec: Some(Arc::new(FlowLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(FlowPhysicalCodec::default())),
        override_session_builder: Some(Arc::new(scheduler_session)),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| ballista_error("scheduler", e))?;
    start_server(cluster, options.bind, Arc::new(config))
        .await
        .map_err(|e| ballista_error("scheduler", e))
}

/// How an executor runs.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's address.
    pub scheduler: SocketAddr,
    /// Where it listens for shuffle and result fetches (Arrow Flight).
    pub bind: SocketAddr,
    /// Its gRPC port (tasks pushed by the scheduler).
    pub grpc_port: u16,
    /// Tasks it runs at once (0: one per core).
    pub concurrent_tasks: usize,
    /// Where it keeps shuffle files (default: a directory of its own under the system's
    /// temporary directory).
    pub work_dir: Option<PathBuf>,
}

/// Runs an executor until the process is stopped (Ctrl-C or SIGTERM) or the scheduler goes.
pub async fn run_executor(options: ExecutorOptions) -> Result<()> {
    let work_dir = match options.work_dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("flow-models-executor-{}", std::process::id())),
    };
    std::fs::create_dir_all(&work_dir).map_err(|e| {
        ballista_error(
            &format!("executor work directory {}", work_dir.display()),
            e,
        )
    })?;
    let host = options.bind.ip().to_string();
    let config = ExecutorProcessConfig {
        bind_host: host.clone(),
        external_host: Some(host),
        port: options.bind.port(),
        grpc_port: options.grpc_port,
        scheduler_host: options.scheduler.ip().to_string(),
        scheduler_port: options.scheduler.port(),
        scheduler_connect_timeout_seconds: 10,
        vcores: options.concurrent_tasks,
        work_dir: Some(work_dir.display().to_string()),
        // Well inside any scheduler's --executor-timeout (the tests use 5 s): a heartbeat
        // that comes late by a scheduling hiccup must not get a working executor dropped.
        executor_heartbeat_interval_seconds: 1,
        override_logical_codec: Some(Arc::new(FlowLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(FlowPhysicalCodec::default())),
        override_function_registry: Some(Arc::new(function_registry()?)),
        ..Default::default()
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| ballista_error("executor", e))
}

/// An address on 127.0.0.1 free when asked.
fn free_address() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Waits until something listens at `address` (at most `secs` seconds).
async fn listening(address: SocketAddr, what: &str, secs: u64) -> Result<()> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::net::TcpStream::connect(address).await.is_err() {
        if std::time::Instant::now() > deadline {
            return Err(ballista_error(what, format!("not listening at {address}")));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(())
}

/// A cluster in this process, on 127.0.0.1 (Ballista's "standalone" mode, with our codecs and
/// functions): a scheduler and `executors` executors of `slots` task slots each, their shuffle
/// files under `work_dir`, run as tasks of the current runtime until it ends. Returns the
/// scheduler's URL for [`remote_context`].
pub async fn start_in_process(
    executors: usize,
    slots: usize,
    work_dir: &std::path::Path,
) -> Result<String> {
    let scheduler = free_address()?;
    tokio::spawn(run_scheduler(SchedulerOptions {
        bind: scheduler,
        executor_timeout_seconds: 30,
    }));
    listening(scheduler, "the scheduler", 30).await?;
    for i in 0..executors {
        let bind = free_address()?;
        tokio::spawn(run_executor(ExecutorOptions {
            scheduler,
            bind,
            grpc_port: free_address()?.port(),
            concurrent_tasks: slots,
            work_dir: Some(work_dir.join(format!("executor-{i}"))),
        }));
        listening(bind, "an executor", 30).await?;
    }
    Ok(format!("df://{scheduler}"))
}
