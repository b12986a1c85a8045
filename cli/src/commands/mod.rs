//! One module per subcommand of `lake`, each a thin layer that reads its arguments, calls the
//! library crates and prints: [`generate`], [`layers`] (ingest, silver, gold), [`run`], [`ml`],
//! [`mongo`], [`sql`], [`status`], [`cluster`], [`jobs`], [`stream`], [`compare`], [`bench`].

pub mod bench;
pub mod cluster;
pub mod compare;
pub mod generate;
pub mod jobs;
pub mod layers;
pub mod ml;
pub mod mongo;
pub mod run;
pub mod sql;
pub mod status;
pub mod stream;

use anyhow::Result;
use lake_core::{LakeError, Layer};

use std::time::Duration;

use lake_core::lease::{Lease, LeaseSettings, Obtained};

use crate::args::{BenchCommand, Cli, Command, LakeArgs, MongoCommand, StreamCommand};
use crate::exit::Outcome;
use crate::lake_access::{open, open_lake};
use crate::scheduler_api::SchedulerApi;

pub async fn dispatch(cli: Cli) -> Result<Outcome> {
    let scheduler = cli.lake.scheduler.clone();
    let result = run_command(cli).await;
    match (result, scheduler) {
        (Err(e), Some(url)) => Err(cancel_timed_out_job(e, &url).await),
        (result, _) => result,
    }
}

/// A job that outlived --job-timeout may still run on the cluster: cancel it there too.
async fn cancel_timed_out_job(error: anyhow::Error, scheduler: &str) -> anyhow::Error {
    let Some(job) = error
        .chain()
        .find_map(|e| match e.downcast_ref::<LakeError>() {
            Some(LakeError::JobTimeout { job, .. }) => Some(job.clone()),
            _ => None,
        })
    else {
        return error;
    };
    let outcome = match SchedulerApi::new(scheduler) {
        Ok(api) => api.cancel_named(&job).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(jobs) if jobs.is_empty() => {
            error.context(format!("{job} is no longer running on {scheduler}"))
        }
        Ok(jobs) => {
            let stuck: Vec<String> = jobs
                .iter()
                .map(|j| {
                    format!(
                        "job {} stopped in stage {} of {}",
                        j.id,
                        (j.completed_stages + 1).min(j.num_stages.max(1)),
                        j.num_stages
                    )
                })
                .collect();
            error.context(format!(
                "cancelled {job} on {scheduler} ({})",
                stuck.join("; ")
            ))
        }
        Err(e) => error.context(format!("could not cancel {job} on {scheduler}: {e:#}")),
    }
}

/// The name under which a command that writes the lake holds its lease; `None` for the
/// commands that only read it (or write elsewhere: sources, MongoDB, Kafka).
fn writer_name(command: &Command) -> Option<&'static str> {
    match command {
        Command::Ingest(_) => Some("lake ingest"),
        Command::Silver(_) => Some("lake silver"),
        Command::Gold(_) => Some("lake gold"),
        Command::Ml(_) => Some("lake ml"),
        Command::Run(_) => Some("lake run"),
        _ => None,
    }
}

/// The argument checks that need no lake, done before a writer takes the lease: a usage error
/// writes nothing.
fn check_arguments(command: &Command) -> Result<()> {
    match command {
        Command::Run(args) => {
            run::check_sources(args)?;
            ml::check_k(&args.ml)
        }
        Command::Ml(args) => ml::check_k(&args.ml),
        _ => Ok(()),
    }
}

/// Takes the lake's writer lease for `name`, saying so when it waits or takes over the lease
/// of a writer that died.
async fn take_lease(lake_args: &LakeArgs, name: &str) -> Result<Lease> {
    let lake = open_lake(lake_args).await?;
    let settings = LeaseSettings {
        ttl: Duration::from_secs(lake_args.lease_ttl),
        wait: Duration::from_secs(lake_args.lease_wait),
    };
    let lease = Lease::acquire(&lake, name, settings, |holder| {
        eprintln!(
            "waiting up to {} s for the lake's writer: {holder}",
            settings.wait.as_secs()
        );
    })
    .await?;
    if let Obtained::TakenOver(dead) = lease.obtained() {
        eprintln!("took over the lease of a writer that died without releasing it: {dead}");
    }
    Ok(lease)
}

/// How long an interrupted command waits for its in-process writes to finish.
const WRITES_DRAIN: std::time::Duration = std::time::Duration::from_secs(30);

/// A command stopped by Ctrl-C (SIGINT): `lake` exits with status 130.
#[derive(Debug)]
pub struct Interrupted(String);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted: {}", self.0)
    }
}

impl std::error::Error for Interrupted {}

/// Runs the command, holding the lake's lease if it writes; on Ctrl-C stops it and cleans up
/// ([`interrupted`]).
async fn run_command(cli: Cli) -> Result<Outcome> {
    let lake_args = cli.lake.clone();
    check_arguments(&cli.command)?;
    let lease = match writer_name(&cli.command) {
        Some(name) => Some(take_lease(&cli.lake, name).await?),
        None => None,
    };
    let work = execute(cli);
    tokio::pin!(work);
    let result = tokio::select! {
        result = &mut work => result,
        _ = tokio::signal::ctrl_c() => Err(interrupted(&lake_args, lease.is_some()).await.into()),
    };
    let Some(lease) = lease else {
        return result;
    };
    if lease.is_lost() {
        eprintln!(
            "warning: another writer took the lake's lease over during this command (its \
             renewals stalled); what it published was checked against the pointers it started from"
        );
    }
    if let Err(e) = lease.release().await {
        eprintln!("warning: could not release the lake's writer lease (it expires by itself): {e}");
    }
    result
}

/// What an interrupted command leaves: on a cluster, the jobs it was running are cancelled on
/// the scheduler (which would otherwise run them to the end); a writer (which holds the lease,
/// so nobody else's run is in progress) removes the run folders it had started. Nothing was
/// published: publishing is the last step of a layer and was not reached.
async fn interrupted(lake_args: &LakeArgs, writer: bool) -> Interrupted {
    let mut done = vec!["nothing was published".to_string()];
    let jobs = lake_core::pipeline::jobs_in_flight();
    if let (Some(url), false) = (&lake_args.scheduler, jobs.is_empty()) {
        let api = SchedulerApi::new(url);
        for job in jobs {
            let outcome = match &api {
                Ok(api) => api.cancel_named(&job).await,
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            done.push(match outcome {
                Ok(cancelled) if cancelled.is_empty() => format!("{job} had ended on {url}"),
                Ok(_) => format!("cancelled {job} on {url}"),
                Err(e) => format!("could not cancel {job} on {url}: {e:#}"),
            });
        }
    }
    if writer {
        // The in-process writers (standalone, DataFusion alone) first: a file they finished
        // after the removal would bring its run folder back.
        if !lake_core::write_gate::stop(WRITES_DRAIN).await {
            done.push(format!(
                "writes still in flight after {} s",
                WRITES_DRAIN.as_secs()
            ));
        }
        match open_lake(lake_args).await {
            Ok(lake) => {
                for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
                    match lake_core::publish::remove_unpublished_runs(&lake, layer).await {
                        Ok(runs) if runs.is_empty() => {}
                        Ok(runs) => done.push(format!(
                            "removed the unfinished {} run {}",
                            layer.name(),
                            runs.join(", ")
                        )),
                        Err(e) => done.push(format!(
                            "could not remove the unfinished {} runs: {e}",
                            layer.name()
                        )),
                    }
                }
            }
            Err(e) => done.push(format!("could not open the lake to clean up: {e:#}")),
        }
    }
    Interrupted(done.join("; "))
}

async fn execute(cli: Cli) -> Result<Outcome> {
    let done = |result: Result<()>| result.map(|()| Outcome::Done);
    match cli.command {
        Command::Generate(args) => done(generate::generate(&args).map(|_| ())),
        Command::Ingest(args) => {
            let session = open(&cli.lake).await?;
            layers::ingest(&session, &args.sources).await
        }
        Command::Silver(args) => {
            let session = open(&cli.lake).await?;
            let settings = layers::settings(&args)?;
            done(layers::build_layer(&session, Layer::Silver, &settings, &[]).await)
        }
        Command::Gold(args) => {
            let session = open(&cli.lake).await?;
            let settings = layers::gold_settings(&session, &args.settings).await?;
            done(layers::build_layer(&session, Layer::Gold, &settings, &args.select).await)
        }
        Command::Ml(args) => {
            let session = open(&cli.lake).await?;
            done(ml::ml(&session, &args.ml).await)
        }
        Command::Run(args) => run::run(&cli.lake, &args).await,
        Command::Sql(args) => done(sql::sql(&cli.lake, &args).await),
        Command::Mongo(MongoCommand::Load(args)) => mongo::load(&cli.lake, &args).await,
        Command::Bench(BenchCommand::Refresh(args)) => done(bench::refresh(&cli.lake, &args).await),
        Command::Bench(BenchCommand::Stream(args)) => done(bench::stream(&args).await),
        Command::Stream(StreamCommand::Setup(args)) => done(stream::setup(&args).await),
        Command::Stream(StreamCommand::Produce(args)) => done(stream::produce_events(&args).await),
        Command::Stream(StreamCommand::Process(args)) => done(stream::process(&args).await),
        Command::Compare(args) => done(compare::run(&cli.lake, &args).await),
        Command::Status(_) => done(status::status(&cli.lake).await),
        Command::Cluster(command) => done(cluster::cluster(command).await),
        Command::Jobs(args) => done(jobs::jobs(&cli.lake, &args).await),
    }
}
