//! `flow-models scheduler` and `flow-models executor`: the processes of a Ballista cluster
//! that runs this project's queries (`flow-models sql --remote df://HOST:PORT`), with its
//! codecs and functions (the stock Ballista binaries cannot decode flow-models plans).

use datafusion::common::Result;
use flow_ballista::{ExecutorOptions, SchedulerOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

const EXAMPLES: &str = "Examples:\n  \
    flow-models scheduler --bind 127.0.0.1:50050\n  \
    flow-models executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50051\n  \
    flow-models executor --scheduler 127.0.0.1:50050 --bind 127.0.0.1:50061 --concurrent-tasks 2\n  \
    flow-models sql --remote df://127.0.0.1:50050 -c \"SELECT count(*), sum(octets) FROM flowbin('/data/trace')\"\n\n\
    The scheduler plans each query (it lists and opens the inputs) and the executors read them:\n\
    give paths that every process can open (the same directories on each host, or object-store\n\
    URLs).";

/// Run a Ballista scheduler for flow-models queries (clients: `sql --remote`).
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct SchedulerArgs {
    /// Address to listen on, for clients and executors
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub bind: SocketAddr,
    /// Seconds of silence after which an executor is taken as gone (its tasks fail over)
    #[arg(long, default_value_t = 180)]
    pub executor_timeout: u64,
}

/// Run a Ballista executor for flow-models queries, registered with a scheduler.
#[derive(clap::Args, Debug)]
#[command(after_help = EXAMPLES)]
pub struct ExecutorArgs {
    /// The scheduler's address
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub scheduler: SocketAddr,
    /// Address to listen on for shuffle and result fetches (Arrow Flight)
    #[arg(long, default_value = "127.0.0.1:50051")]
    pub bind: SocketAddr,
    /// Port of the executor's gRPC service, on the --bind address (default: the --bind port + 1)
    #[arg(long)]
    pub grpc_port: Option<u16>,
    /// Tasks run at once (default: one per core)
    #[arg(long, default_value_t = 0)]
    pub concurrent_tasks: usize,
    /// Directory for shuffle files (default: one under the system's temporary directory)
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
}

/// Logs on stderr, at `info` unless `RUST_LOG` says otherwise.
fn init_logs() {
    let env = env_logger::Env::default().default_filter_or("info");
    let _ = env_logger::Builder::from_env(env).try_init();
}

pub async fn scheduler(args: SchedulerArgs) -> Result<()> {
    init_logs();
    eprintln!("flow-models scheduler listening on {}", args.bind);
    flow_ballista::run_scheduler(SchedulerOptions {
        bind: args.bind,
        executor_timeout_seconds: args.executor_timeout,
    })
    .await
}

pub async fn executor(args: ExecutorArgs) -> Result<()> {
    init_logs();
    let grpc_port = args
        .grpc_port
        .unwrap_or_else(|| args.bind.port().wrapping_add(1));
    eprintln!(
        "flow-models executor on {} (gRPC port {grpc_port}), scheduler {}",
        args.bind, args.scheduler
    );
    flow_ballista::run_executor(ExecutorOptions {
        scheduler: args.scheduler,
        bind: args.bind,
        grpc_port,
        concurrent_tasks: args.concurrent_tasks,
        work_dir: args.work_dir,
    })
    .await
}
