//! The supervisor behind `lake cluster up | status | down` (printed by `commands::cluster`): one
//! `lake-scheduler` and N `lake-executor` processes on this machine, without Docker. Their pids, ports, logs, shuffle files and the scheduler's job
//! event logs live under a state folder:
//!
//! ```text
//! .lake-cluster/
//!   cluster.json            what was started: pids, ports, binaries (removed by `down`)
//!   logs/<process>.log      stdout and stderr of each process
//!   work/executor-N/        shuffle files of each executor
//!   events/<job>.eventlog   the scheduler's per-job event log (tasks with their executor)
//! ```

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use crate::scheduler_api::{SchedulerApi, executor_healthz};

const STATE_FILE: &str = "cluster.json";

/// What `lake cluster up` starts.
#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub bind_host: String,
    /// 0: any free port.
    pub scheduler_port: u16,
    /// Executor i (from 0) takes base+3i (Flight), base+3i+1 (gRPC), base+3i+2 (health);
    /// 0: any free ports.
    pub executor_base_port: u16,
    pub executors: usize,
    /// Task slots per executor (0: the machine's cores).
    pub vcores: usize,
    /// Each executor's memory pool.
    pub executor_memory: lake_core::memory::MemoryLimit,
    pub heartbeat_seconds: Option<u64>,
    pub executor_timeout_seconds: Option<u64>,
    pub wait: Duration,
    /// Folder of `lake-scheduler` and `lake-executor` (default: beside `lake`, else PATH).
    pub bin_dir: Option<PathBuf>,
    pub scheduler_args: Vec<String>,
    pub executor_args: Vec<String>,
}

/// One started process, as recorded in `cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub name: String,
    pub pid: u32,
    pub binary: PathBuf,
    pub log: PathBuf,
    pub address: String,
    /// `/healthz` port of an executor.
    pub health_port: Option<u16>,
    /// The arguments it was started with, to restart it the same way.
    #[serde(default)]
    pub args: Vec<String>,
    /// How many times `up` restarted it.
    #[serde(default)]
    pub restarts: u32,
}

impl ProcessRecord {
    /// The id an executor registered with (`--id`), None for the scheduler.
    pub fn executor_id(&self) -> Option<&str> {
        let position = self.args.iter().position(|a| a == "--id")?;
        self.args.get(position + 1).map(String::as_str)
    }

    /// The same process under a new executor id: the scheduler refuses an id it still lists,
    /// and it lists a killed executor until the executor timeout expires.
    fn for_restart(&self) -> Self {
        let mut next = self.clone();
        next.restarts += 1;
        if let Some(position) = next.args.iter().position(|a| a == "--id")
            && let Some(id) = next.args.get_mut(position + 1)
        {
            *id = format!("{}-r{}", self.name, next.restarts);
        }
        next
    }
}

/// `cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterState {
    pub scheduler_url: String,
    pub started_at: String,
    pub processes: Vec<ProcessRecord>,
}

impl ClusterState {
    pub fn load(state_dir: &Path) -> Result<Option<Self>> {
        let path = state_dir.join(STATE_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{} is not a cluster state file", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save(&self, state_dir: &Path) -> Result<()> {
        let path = state_dir.join(STATE_FILE);
        let text = serde_json::to_vec_pretty(self).context("cannot encode the cluster state")?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    fn running(&self) -> Vec<&ProcessRecord> {
        self.processes.iter().filter(|p| is_running(p)).collect()
    }
}

/// What `up` did.
pub enum UpOutcome {
    Started(ClusterState),
    /// Some processes of a recorded cluster had stopped; these were restarted with their
    /// original arguments.
    Restarted(ClusterState, Vec<String>),
    AlreadyRunning(ClusterState),
}

/// Starts the scheduler and the executors, then waits until every executor is registered.
/// On a recorded cluster whose scheduler still runs, restarts only the processes that stopped.
pub async fn up(state_dir: &Path, spec: &ClusterSpec) -> Result<UpOutcome> {
    if let Some(state) = ClusterState::load(state_dir)? {
        let stopped: Vec<ProcessRecord> = state
            .processes
            .iter()
            .filter(|p| !is_running(p))
            .cloned()
            .collect();
        let scheduler_stopped = stopped.iter().any(|p| p.name == "scheduler");
        if stopped.is_empty() {
            return Ok(UpOutcome::AlreadyRunning(state));
        }
        if !scheduler_stopped {
            let state = restart(state_dir, state, &stopped, spec).await?;
            let names = stopped.into_iter().map(|p| p.name).collect();
            return Ok(UpOutcome::Restarted(state, names));
        }
        // The scheduler is gone: stop what is left and start afresh.
        down(state_dir, Duration::from_secs(10))?;
    }
    start(state_dir, spec).await.map(UpOutcome::Started)
}

/// Restarts stopped executors of a running cluster with their recorded arguments.
async fn restart(
    state_dir: &Path,
    mut state: ClusterState,
    stopped: &[ProcessRecord],
    spec: &ClusterSpec,
) -> Result<ClusterState> {
    let since_ms = now_ms();
    let mut children = Vec::new();
    for record in stopped {
        let record = record.for_restart();
        let started = spawn(
            state_dir,
            &record.name,
            &record.binary,
            &record.args,
            record.address.clone(),
            record.health_port,
        )
        .map(|(child, started)| {
            let restarts = record.restarts;
            (
                child,
                ProcessRecord {
                    restarts,
                    ..started
                },
            )
        });
        push_or_clean_up(&mut children, started)?;
    }
    for (_, record) in &children {
        if let Some(slot) = state.processes.iter_mut().find(|p| p.name == record.name) {
            *slot = record.clone();
        }
    }
    state.save(state_dir)?;
    let restarted = children.len();
    wait_until_registered(
        &state.scheduler_url,
        since_ms,
        restarted,
        spec.wait,
        &mut children,
    )
    .await?;
    Ok(state)
}

async fn start(state_dir: &Path, spec: &ClusterSpec) -> Result<ClusterState> {
    // A fresh cluster starts with fresh logs.
    let _ = std::fs::remove_dir_all(state_dir.join("logs"));
    for folder in ["logs", "work", "events"] {
        let path = state_dir.join(folder);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
    }
    let scheduler_binary = find_binary("lake-scheduler", spec.bin_dir.as_deref())?;
    let executor_binary = find_binary("lake-executor", spec.bin_dir.as_deref())?;
    let host = &spec.bind_host;
    let ports = ClusterPorts::choose(spec)?;
    let scheduler_port = ports.scheduler;
    let scheduler_url = format!("df://{host}:{scheduler_port}");

    let since_ms = now_ms();
    let mut children: Vec<(Child, ProcessRecord)> = Vec::new();
    let mut scheduler_args = vec![
        "--bind-host".to_string(),
        host.clone(),
        "--external-host".into(),
        host.clone(),
        "--bind-port".into(),
        scheduler_port.to_string(),
        "--event-log-dir".into(),
        absolute(&state_dir.join("events"))?,
    ];
    if let Some(timeout) = spec.executor_timeout_seconds {
        scheduler_args.extend([
            "--executor-timeout-seconds".into(),
            timeout.to_string(),
            "--expire-dead-executor-interval-seconds".into(),
            (timeout / 3).max(1).to_string(),
        ]);
    }
    scheduler_args.extend(spec.scheduler_args.iter().cloned());
    let started = spawn(
        state_dir,
        "scheduler",
        &scheduler_binary,
        &scheduler_args,
        format!("{host}:{scheduler_port}"),
        None,
    );
    push_or_clean_up(&mut children, started)?;

    for index in 0..spec.executors {
        let name = format!("executor-{}", index + 1);
        let [flight, grpc, health] = ports.executors[index];
        let work = state_dir.join("work").join(&name);
        std::fs::create_dir_all(&work)
            .with_context(|| format!("cannot create {}", work.display()))?;
        let mut args = vec![
            "--id".to_string(),
            name.clone(),
            "--bind-host".into(),
            host.clone(),
            "--external-host".into(),
            host.clone(),
            "--bind-port".into(),
            flight.to_string(),
            "--bind-grpc-port".into(),
            grpc.to_string(),
            "--bind-health-port".into(),
            health.to_string(),
            "--scheduler-host".into(),
            host.clone(),
            "--scheduler-port".into(),
            scheduler_port.to_string(),
            "--scheduler-connect-timeout-seconds".into(),
            spec.wait.as_secs().max(1).to_string(),
            "--vcores".into(),
            spec.vcores.to_string(),
            "--memory-pool-size".into(),
            spec.executor_memory.bytes().unwrap_or(0).to_string(),
            "--work-dir".into(),
            absolute(&work)?,
        ];
        if let Some(seconds) = spec.heartbeat_seconds {
            args.extend([
                "--executor-heartbeat-interval-seconds".into(),
                seconds.to_string(),
            ]);
        }
        args.extend(spec.executor_args.iter().cloned());
        let started = spawn(
            state_dir,
            &name,
            &executor_binary,
            &args,
            format!("{host}:{flight}"),
            Some(health),
        );
        push_or_clean_up(&mut children, started)?;
    }

    let state = ClusterState {
        scheduler_url: scheduler_url.clone(),
        started_at: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        processes: children.iter().map(|(_, record)| record.clone()).collect(),
    };
    // Recorded before waiting, so `lake cluster down` can stop what an interrupted `up` started.
    state.save(state_dir)?;

    if let Err(e) = wait_until_registered(
        &scheduler_url,
        since_ms,
        spec.executors,
        spec.wait,
        &mut children,
    )
    .await
    {
        stop_children(&mut children);
        let _ = std::fs::remove_file(state_dir.join(STATE_FILE));
        return Err(e);
    }
    Ok(state)
}

fn push_or_clean_up(
    children: &mut Vec<(Child, ProcessRecord)>,
    started: Result<(Child, ProcessRecord)>,
) -> Result<()> {
    match started {
        Ok(child) => {
            children.push(child);
            Ok(())
        }
        Err(e) => {
            stop_children(children);
            Err(e)
        }
    }
}

/// Polls the scheduler until it lists the started executors with a heartbeat after `since_ms`
/// (when they were spawned); fails early, with the log's last lines,
/// when a process exits.
async fn wait_until_registered(
    scheduler_url: &str,
    since_ms: u64,
    executors: usize,
    wait: Duration,
    children: &mut [(Child, ProcessRecord)],
) -> Result<()> {
    let api = SchedulerApi::new(scheduler_url)?;
    let clock = Instant::now();
    let mut registered = 0;
    loop {
        for (child, record) in children.iter_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "{} exited at start ({status}); last lines of {}:\n{}",
                    record.name,
                    record.log.display(),
                    log_tail(&record.log, 15)
                );
            }
        }
        if let Ok(listed) = api.executors().await {
            // Fresh heartbeats only: the scheduler still lists a killed executor until it expires.
            // It reports `last_seen` in whole seconds: a registration in the second of the spawn
            // counts (comparing milliseconds left it waiting for the next heartbeat, 60 s on).
            let since_second_ms = since_ms / 1000 * 1000;
            registered = listed
                .iter()
                .filter(|e| e.last_seen_ms.is_some_and(|ms| ms >= since_second_ms))
                .filter(|e| children.iter().any(|(_, r)| r.executor_id() == Some(&e.id)))
                .count();
            if registered >= executors {
                return Ok(());
            }
        }
        if clock.elapsed() > wait {
            let logs: Vec<String> = children
                .iter()
                .map(|(_, r)| format!("--- {} ---\n{}", r.log.display(), log_tail(&r.log, 8)))
                .collect();
            bail!(
                "after {} s the scheduler {scheduler_url} lists {registered} of {} executors; \
                 the cluster was stopped.\n{}",
                wait.as_secs(),
                executors,
                logs.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Stops the processes of `cluster.json`: executors first, SIGTERM, then SIGKILL after `grace`.
/// Returns the names of the processes stopped.
pub fn down(state_dir: &Path, grace: Duration) -> Result<Vec<String>> {
    let Some(state) = ClusterState::load(state_dir)? else {
        bail!(
            "no cluster state in {}: nothing was started from there (see --state-dir)",
            state_dir.display()
        );
    };
    let mut stopping: Vec<&ProcessRecord> = state.running();
    // Executors before the scheduler, so they do not spin reconnecting to it.
    stopping.sort_by_key(|p| p.name == "scheduler");
    for process in &stopping {
        signal(process.pid, libc::SIGTERM);
    }
    let clock = Instant::now();
    while stopping.iter().any(|p| is_running(p)) && clock.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(100));
    }
    for process in stopping.iter().filter(|p| is_running(p)) {
        signal(process.pid, libc::SIGKILL);
    }
    let path = state_dir.join(STATE_FILE);
    std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    Ok(stopping.iter().map(|p| p.name.clone()).collect())
}

/// One recorded process of a cluster, checked now.
#[derive(Debug, Clone)]
pub struct ProcessHealth {
    pub process: ProcessRecord,
    pub alive: bool,
    /// An executor's `/healthz` answer: `None` for the scheduler or a stopped process.
    pub healthz: Option<std::result::Result<(), String>>,
}

/// Whether each recorded process still runs, and each live executor's `/healthz` answer.
pub async fn process_health(state: &ClusterState) -> Vec<ProcessHealth> {
    let mut out = Vec::new();
    for p in &state.processes {
        let alive = is_running(p);
        let healthz = match (alive, p.health_port) {
            (true, Some(port)) => {
                let host = p.address.rsplit_once(':').map_or("127.0.0.1", |(h, _)| h);
                Some(
                    executor_healthz(host, port)
                        .await
                        .map_err(|e| format!("{e:#}")),
                )
            }
            _ => None,
        };
        out.push(ProcessHealth {
            process: p.clone(),
            alive,
            healthz,
        });
    }
    out
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn spawn(
    state_dir: &Path,
    name: &str,
    binary: &Path,
    args: &[String],
    address: String,
    health_port: Option<u16>,
) -> Result<(Child, ProcessRecord)> {
    let log = state_dir.join("logs").join(format!("{name}.log"));
    // Appended to, so a restarted executor's log keeps what happened before.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .with_context(|| format!("cannot open {}", log.display()))?;
    let stderr = file
        .try_clone()
        .with_context(|| format!("cannot share {}", log.display()))?;
    let child = Command::new(binary)
        .args(args)
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(stderr)
        // Its own process group: a Ctrl-C in this terminal does not stop the cluster.
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let record = ProcessRecord {
        name: name.to_string(),
        pid: child.id(),
        binary: binary.to_path_buf(),
        log,
        address,
        health_port,
        args: args.to_vec(),
        restarts: 0,
    };
    Ok((child, record))
}

fn stop_children(children: &mut [(Child, ProcessRecord)]) {
    for (child, _) in children.iter_mut() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// `lake-scheduler` / `lake-executor`: in `--bin-dir`, else beside this `lake`, else on PATH.
fn find_binary(name: &str, bin_dir: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = bin_dir {
        let path = dir.join(name);
        return if path.is_file() {
            Ok(path)
        } else {
            bail!("{} does not exist (--bin-dir)", path.display())
        };
    }
    if let Some(beside) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .filter(|path| path.is_file())
    {
        return Ok(beside);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .with_context(|| {
            format!(
                "cannot find {name} beside lake or on PATH: build it with \
                 `cargo build --workspace --bins` (or `make build`), or give --bin-dir"
            )
        })
}

/// The ports of one cluster: the scheduler's, then each executor's Flight, gRPC and health ports.
struct ClusterPorts {
    scheduler: u16,
    executors: Vec<[u16; 3]>,
}

impl ClusterPorts {
    /// Chooses every port before any process starts. A port left at 0 is asked of the system;
    /// the probing listeners stay open until all ports are chosen, so one cluster never gets
    /// the same free port twice (a port is only taken for real when its process binds it).
    fn choose(spec: &ClusterSpec) -> Result<Self> {
        let host = spec.bind_host.as_str();
        let mut probes = Vec::new();
        let mut free_port = |fixed: u16| -> Result<u16> {
            if fixed != 0 {
                return Ok(fixed);
            }
            let listener = TcpListener::bind((host, 0))
                .with_context(|| format!("cannot find a free port on {host}"))?;
            let port = listener
                .local_addr()
                .with_context(|| format!("cannot find a free port on {host}"))?
                .port();
            probes.push(listener);
            Ok(port)
        };
        let scheduler = free_port(spec.scheduler_port)?;
        let mut executors = Vec::with_capacity(spec.executors);
        for index in 0..spec.executors {
            let mut three = [0u16; 3];
            for (offset, port) in three.iter_mut().enumerate() {
                *port = if spec.executor_base_port == 0 {
                    free_port(0)?
                } else {
                    let wanted =
                        u32::from(spec.executor_base_port) + 3 * index as u32 + offset as u32;
                    u16::try_from(wanted).context("executor ports run past 65535")?
                };
            }
            executors.push(three);
        }
        Ok(Self {
            scheduler,
            executors,
        })
    }
}

fn absolute(path: &Path) -> Result<String> {
    std::path::absolute(path)
        .map(|p| p.to_string_lossy().into_owned())
        .with_context(|| format!("cannot make {} absolute", path.display()))
}

/// Whether the recorded process still runs: the pid exists, is not a zombie, and is still the
/// binary we started (pids are reused).
fn is_running(process: &ProcessRecord) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{}", process.pid));
    let Ok(stat) = std::fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    // Field 3, after the parenthesised command name, is the state.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    if matches!(state, Some("Z") | Some("X") | None) {
        return false;
    }
    let binary_name = process
        .binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::read(proc_dir.join("cmdline"))
        .map(|cmdline| String::from_utf8_lossy(&cmdline).contains(&binary_name))
        .unwrap_or(false)
}

fn signal(pid: u32, signal: libc::c_int) {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: kill(2) has no memory effects; a stale pid only yields ESRCH, which is ignored.
    unsafe {
        libc::kill(pid, signal);
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_or_reused_pid_is_not_running() {
        let this = ProcessRecord {
            name: "x".into(),
            pid: std::process::id(),
            binary: std::env::current_exe().expect("test binary"),
            log: PathBuf::new(),
            address: String::new(),
            health_port: None,
            args: Vec::new(),
            restarts: 0,
        };
        assert!(is_running(&this));
        let other_binary = ProcessRecord {
            binary: PathBuf::from("/usr/bin/lake-scheduler-not-this-one"),
            ..this.clone()
        };
        assert!(!is_running(&other_binary));
        let mut child = Command::new("true").spawn().expect("true runs");
        let pid = child.id();
        child.wait().expect("true exits");
        let gone = ProcessRecord {
            pid,
            binary: PathBuf::from("true"),
            ..this
        };
        assert!(!is_running(&gone));
    }

    #[test]
    fn state_round_trips_and_absence_is_none() {
        let dir = tempfile::tempdir().expect("tmp");
        assert!(ClusterState::load(dir.path()).expect("load").is_none());
        let state = ClusterState {
            scheduler_url: "df://127.0.0.1:1".into(),
            started_at: "now".into(),
            processes: Vec::new(),
        };
        state.save(dir.path()).expect("save");
        let loaded = ClusterState::load(dir.path()).expect("load").expect("some");
        assert_eq!(loaded.scheduler_url, "df://127.0.0.1:1");
        std::fs::write(dir.path().join(STATE_FILE), "{").expect("write");
        assert!(ClusterState::load(dir.path()).is_err());
    }
}
