//! Ballista "standalone": a scheduler and one executor inside this process, on loopback ports.
//!
//! Ballista's own standalone executor polls the scheduler for tasks and sleeps 50 ms when none
//! is ready, so every stage of every job waits for the next poll (Gold, 23 jobs of up to 21
//! stages, took 12 s at SF 1 where the push-based cluster took 3 s). Here the executor's poll
//! loop is woken (its `poll_now_notify`) by the scheduler's `on_work_available` callback the
//! moment a job is submitted or a stage becomes runnable, and by a 2 ms ticker: a finished
//! task's status only reaches the scheduler with the next poll, and the loop has no hook for
//! local task completion. Idle polls are loopback calls of a few microseconds.

use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::ids::new_instance_id;
use ballista_core::serde::BallistaCodec;
use ballista_core::serde::protobuf::ExecutorRegistration;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::serde::scheduler::{
    ExecutorOperatingSystemSpecification, ExecutorSpecification,
};
use ballista_core::utils::{GrpcServerConfig, create_grpc_server};
use ballista_core::{BALLISTA_PROTOCOL_VERSION, ConfigProducer, RuntimeProducer};
use ballista_executor::execution_loop::poll_loop;
use ballista_executor::executor::Executor;
use ballista_executor::flight_service::BallistaFlightService;
use ballista_executor::health::ExecutorHealth;
use ballista_executor::metrics::LoggingMetricsCollector;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::metrics::default_metrics_collector;
use ballista_scheduler::scheduler_server::SchedulerServer;
use datafusion::execution::SessionState;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use futures::StreamExt;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_stream::wrappers::TcpListenerStream;

use crate::error::{LakeError, Result};
use crate::execution_engine::WithoutOperatorMetrics;

/// Accepted connections with Nagle's algorithm off. A server given its own listener does not set
/// TCP_NODELAY, and small gRPC answers then wait for the peer's delayed ACK: about 40 ms per task
/// hand-over, which dominated short jobs.
fn without_nagle(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            // Best effort: a socket that refuses the option still works, only slower.
            let _ = stream.set_nodelay(true);
        })
    })
}

fn setup_error(reason: impl std::fmt::Display) -> LakeError {
    LakeError::EngineSetup {
        engine: "ballista-standalone".into(),
        reason: reason.to_string(),
    }
}

/// How often the idle executor reports finished tasks and asks for new ones.
const WAKE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(2);

/// The in-process scheduler, kept by the session to report and cancel a job it abandons.
#[derive(Clone)]
pub struct StandaloneScheduler(SchedulerServer<LogicalPlanNode, PhysicalPlanNode>);

impl std::fmt::Debug for StandaloneScheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StandaloneScheduler")
    }
}

impl StandaloneScheduler {
    /// Cancels the queued or running jobs of that name; returns, for each, where it stopped
    /// (`job ID stopped in stage N of M`).
    pub async fn cancel_named(&self, name: &str) -> Vec<String> {
        let jobs = match self.0.state.task_manager.get_all_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => return vec![format!("the scheduler could not list its jobs: {e}")],
        };
        let mut stopped = Vec::new();
        // Still running: not ended yet.
        for job in jobs
            .into_iter()
            .filter(|j| j.job_name == name && j.end_time == 0)
        {
            // Best effort: the command fails on the timeout whatever the cancellation gives.
            let _ = self.0.cancel_job(job.job_id.clone()).await;
            stopped.push(format!(
                "job {} stopped in stage {} of {}",
                job.job_id,
                (job.completed_stages + 1).min(job.num_stages.max(1)),
                job.num_stages
            ));
        }
        stopped
    }
}

/// What a started standalone gives the session: the scheduler's URL for the client, the
/// scheduler itself, and the executor's work folder (shuffle files), to keep while the session
/// lives.
pub struct Started {
    pub scheduler_url: String,
    pub scheduler: StandaloneScheduler,
    pub work_dir: TempDir,
}

/// Starts the in-process scheduler and executor for `state` (its functions, object stores and
/// settings serve every job).
pub async fn start(state: &SessionState, vcores: usize) -> Result<Started> {
    let wake_executor = Arc::new(Notify::new());
    let (address, scheduler) = start_scheduler(state, wake_executor.clone()).await?;
    let scheduler_url = format!("http://{address}");
    let work_dir = tempfile::Builder::new()
        .prefix("lake-standalone-")
        .tempdir()
        .map_err(setup_error)?;
    start_executor(
        state,
        &scheduler_url,
        vcores,
        work_dir.path(),
        wake_executor.clone(),
    )
    .await?;
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(WAKE_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            wake_executor.notify_one();
        }
    });
    Ok(Started {
        scheduler_url,
        scheduler,
        work_dir,
    })
}

async fn start_scheduler(
    state: &SessionState,
    wake_executor: Arc<Notify>,
) -> Result<(std::net::SocketAddr, StandaloneScheduler)> {
    let config = state.config().clone();
    let codec = BallistaCodec::new(
        config.ballista_logical_extension_codec(),
        config.ballista_physical_extension_codec(),
    );
    let max_message_size = config.ballista_grpc_client_max_message_size();
    // Each job is planned with its own session settings (`--set` included) over this state's
    // functions and object stores.
    let session_state = state.clone();
    let session_builder = Arc::new(move |config: SessionConfig| {
        let mut state = session_state.clone();
        *state.config_mut() = config;
        Ok(state)
    });
    let session_config = config.clone();
    let config_producer: ConfigProducer = Arc::new(move || session_config.clone());
    let cluster = BallistaCluster::new_memory("localhost:50050", session_builder, config_producer);

    let scheduler_config = SchedulerConfig::default()
        .with_scheduler_policy(TaskSchedulingPolicy::PullStaged)
        .with_on_work_available(Arc::new(move |_| wake_executor.notify_one()));
    let mut server: SchedulerServer<LogicalPlanNode, PhysicalPlanNode> = SchedulerServer::new(
        "localhost:50050".to_string(),
        cluster,
        codec,
        Arc::new(scheduler_config),
        default_metrics_collector().map_err(setup_error)?,
    );
    server.init().await.map_err(setup_error)?;
    let handle = StandaloneScheduler(server.clone());
    let service = SchedulerGrpcServer::new(server)
        .max_decoding_message_size(max_message_size)
        .max_encoding_message_size(max_message_size);

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(setup_error)?;
    let address = listener.local_addr().map_err(setup_error)?;
    tokio::spawn(
        create_grpc_server(&GrpcServerConfig::default())
            .add_service(service)
            .serve_with_incoming(without_nagle(listener)),
    );
    Ok((address, handle))
}

async fn start_executor(
    state: &SessionState,
    scheduler_url: &str,
    vcores: usize,
    work_dir: &std::path::Path,
    wake_executor: Arc<Notify>,
) -> Result<()> {
    let scheduler = SchedulerGrpcClient::connect(scheduler_url.to_string())
        .await
        .map_err(setup_error)?;
    let config = state.config().clone().upgrade_for_ballista();
    let codec: BallistaCodec = BallistaCodec::new(
        config.ballista_logical_extension_codec(),
        config.ballista_physical_extension_codec(),
    );
    let max_message_size = config.ballista_grpc_client_max_message_size();
    let runtime = state.runtime_env().clone();
    let config_producer: ConfigProducer = Arc::new(move || config.clone());
    let runtime_producer: RuntimeProducer = Arc::new(move |_| Ok(runtime.clone()));

    let work_dir = work_dir.to_string_lossy().into_owned();

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(setup_error)?;
    let address = listener.local_addr().map_err(setup_error)?;
    let registration = ExecutorRegistration {
        id: new_instance_id(),
        host: Some("127.0.0.1".to_string()),
        port: u32::from(address.port()),
        // No executor gRPC server: tasks are pulled, never pushed.
        grpc_port: 0,
        specification: Some(
            ExecutorSpecification::default()
                .with_vcores(u32::try_from(vcores).unwrap_or(1))
                .into(),
        ),
        os_info: Some(ExecutorOperatingSystemSpecification::default().into()),
        ballista_protocol_version: BALLISTA_PROTOCOL_VERSION,
    };
    let executor = Arc::new(Executor::new(
        registration,
        &work_dir,
        runtime_producer,
        config_producer,
        Arc::new(state.into()),
        Arc::new(LoggingMetricsCollector::default()),
        vcores,
        Arc::new(WithoutOperatorMetrics::new()),
    ));
    let flight = FlightServiceServer::new(BallistaFlightService::new(work_dir))
        .max_decoding_message_size(max_message_size)
        .max_encoding_message_size(max_message_size);
    tokio::spawn(
        create_grpc_server(&GrpcServerConfig::default())
            .add_service(flight)
            .serve_with_incoming(without_nagle(listener)),
    );
    tokio::spawn(poll_loop(
        scheduler,
        executor,
        codec,
        Some(wake_executor),
        None,
        ExecutorHealth::new(),
    ));
    Ok(())
}
