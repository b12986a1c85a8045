//! `lake cluster up | status | down`: what the supervisor ([`crate::cluster`]) did, printed.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::args::ClusterCommand;
use crate::cluster::{ClusterSpec, ClusterState, ProcessHealth, UpOutcome, process_health};
use crate::progress::format_ago;
use crate::scheduler_api::SchedulerApi;

pub(crate) async fn cluster(command: ClusterCommand) -> Result<()> {
    match command {
        ClusterCommand::Up(args) => {
            let spec = ClusterSpec {
                bind_host: args.bind_host.clone(),
                scheduler_port: args.scheduler_port,
                executor_base_port: args.executor_base_port,
                executors: usize::from(args.executors),
                vcores: args.vcores,
                executor_memory: args.executor_memory,
                heartbeat_seconds: args.heartbeat_seconds,
                executor_timeout_seconds: args.executor_timeout_seconds,
                wait: Duration::from_secs(args.wait_seconds),
                bin_dir: args.bin_dir.clone(),
                scheduler_args: args.scheduler_args.clone(),
                executor_args: args.executor_args.clone(),
            };
            let clock = Instant::now();
            eprintln!(
                "cluster of {}: starting what is not running (1 scheduler, {} executors)…",
                args.state.state_dir.display(),
                spec.executors
            );
            let state = match crate::cluster::up(&args.state.state_dir, &spec).await? {
                UpOutcome::Started(state) => state,
                UpOutcome::Restarted(state, names) => {
                    println!("restarted {} of the running cluster", names.join(", "));
                    state
                }
                UpOutcome::AlreadyRunning(state) => {
                    println!(
                        "the cluster of {} is already running: {}",
                        args.state.state_dir.display(),
                        state.scheduler_url
                    );
                    return Ok(());
                }
            };
            for p in &state.processes {
                println!(
                    "  {:<12} pid {:<8} {:<22} log {}",
                    p.name,
                    p.pid,
                    p.address,
                    p.log.display()
                );
            }
            println!(
                "cluster up in {:.1} s: {} executor(s) registered with {}",
                clock.elapsed().as_secs_f64(),
                state.processes.len() - 1,
                state.scheduler_url
            );
            println!(
                "run jobs on it with: lake --scheduler {} run   (or export LAKE_SCHEDULER={})",
                state.scheduler_url, state.scheduler_url
            );
            Ok(())
        }
        ClusterCommand::Status(args) => status(&args.state_dir, None).await,
        ClusterCommand::Down(args) => {
            let stopped = crate::cluster::down(
                &args.state.state_dir,
                Duration::from_secs(args.grace_seconds),
            )?;
            if stopped.is_empty() {
                println!("cluster: nothing was running any more; state cleared");
            } else {
                println!("cluster stopped: {}", stopped.join(", "));
            }
            Ok(())
        }
    }
}

/// `lake cluster status`: the processes, the executors the scheduler sees, and its jobs.
/// Fails when a recorded process is gone or the scheduler does not answer.
pub(crate) async fn status(state_dir: &Path, scheduler: Option<&str>) -> Result<()> {
    let state = ClusterState::load(state_dir)?;
    let mut problems = Vec::new();
    if let Some(state) = &state {
        println!(
            "cluster started from {} at {}",
            state_dir.display(),
            state.started_at
        );
        for ProcessHealth {
            process: p,
            alive,
            healthz,
        } in process_health(state).await
        {
            if !alive {
                problems.push(format!("{} (pid {}) is not running", p.name, p.pid));
            }
            let health = match healthz {
                Some(Ok(())) => "/healthz ok".to_string(),
                Some(Err(e)) => {
                    problems.push(format!("{} /healthz: {e}", p.name));
                    "/healthz FAILED".to_string()
                }
                None => String::new(),
            };
            println!(
                "  {:<12} pid {:<8} {:<8} {:<22} {:<16} log {}",
                p.name,
                p.pid,
                if alive { "running" } else { "STOPPED" },
                p.address,
                health,
                p.log.display()
            );
        }
    } else if scheduler.is_none() {
        bail!(
            "no cluster started from {}: start one with `lake cluster up`, or give --scheduler",
            state_dir.display()
        );
    }
    let url = scheduler
        .map(str::to_string)
        .or_else(|| state.as_ref().map(|s| s.scheduler_url.clone()))
        .unwrap_or_default();
    let api = SchedulerApi::new(&url)?;
    match api.executors().await {
        Ok(executors) => {
            let slots: u64 = executors.iter().map(|e| e.vcores).sum();
            println!(
                "scheduler {url}: {} executor(s), {slots} task slot(s)",
                executors.len()
            );
            for e in &executors {
                println!(
                    "  {:<14} {}:{:<6} {} vcores  last heartbeat {}",
                    e.id,
                    e.host,
                    e.port,
                    e.vcores,
                    e.last_seen_ms
                        .map(|ms| format_ago(Duration::from_millis(
                            crate::cluster::now_ms().saturating_sub(ms)
                        )))
                        .unwrap_or_else(|| "never".into())
                );
            }
            let jobs = api.jobs().await?;
            let count = |status: &str| jobs.iter().filter(|j| j.status == status).count();
            println!(
                "jobs: {} running, {} queued, {} completed, {} failed",
                count("Running"),
                count("Queued"),
                count("Completed"),
                count("Failed")
            );
            let now = crate::cluster::now_ms();
            for job in jobs
                .iter()
                .filter(|j| j.status == "Running" || j.status == "Queued")
            {
                println!(
                    "  {}  {:<28} {}/{} stages  {}",
                    job.id,
                    job.name,
                    job.completed_stages,
                    job.num_stages,
                    job.duration_ms(now)
                        .map(|ms| format!("{:.1} s", ms as f64 / 1000.0))
                        .unwrap_or_default()
                );
            }
        }
        Err(e) => problems.push(format!("{e:#}")),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("the cluster is not healthy:\n  {}", problems.join("\n  "))
    }
}
