//! One function per subcommand.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{NaiveDateTime, Timelike};
use lake_core::session::{parse_as_of, source_entities};
use lake_core::{LakeError, LakeSession, Layer, RunSettings};
use lake_generator::{DefectRates, GenerateConfig};

use crate::args::{
    BenchCommand, Cli, ClusterCommand, Command, GenerateArgs, JobsArgs, LakeArgs, MlArgs,
    MongoCommand, MongoLoadArgs, RunArgs, SettingsArgs, SqlArgs, StreamCommand,
};
use crate::cluster::{ClusterSpec, UpOutcome};
use crate::lake_access::{lake_options, open, open_lake};
use crate::output::print_batches;
use crate::progress::{StageProgress, group_digits};
use crate::scheduler_api::SchedulerApi;

pub async fn dispatch(cli: Cli) -> Result<()> {
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

async fn run_command(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Generate(args) => generate(&args).map(|_| ()),
        Command::Ingest(args) => {
            let session = open(&cli.lake).await?;
            ingest(&session, &args.sources).await
        }
        Command::Silver(args) => {
            let session = open(&cli.lake).await?;
            let settings = settings(&args)?;
            build_layer(&session, Layer::Silver, &settings).await
        }
        Command::Gold(args) => {
            let session = open(&cli.lake).await?;
            let settings = settings(&args)?;
            build_layer(&session, Layer::Gold, &settings).await
        }
        Command::Ml(args) => {
            let session = open(&cli.lake).await?;
            ml(&session, &args).await
        }
        Command::Run(args) => run(&cli.lake, &args).await,
        Command::Sql(args) => sql(&cli.lake, &args).await,
        Command::Mongo(MongoCommand::Load(args)) => mongo_load(&cli.lake, &args).await,
        Command::Bench(BenchCommand::Refresh(args)) => {
            crate::bench_refresh::run(&cli.lake, &open_lake(&cli.lake).await?, &args).await
        }
        Command::Bench(BenchCommand::Stream(args)) => crate::bench_stream::run(&args).await,
        Command::Stream(StreamCommand::Setup(args)) => crate::stream::setup(&args).await,
        Command::Stream(StreamCommand::Produce(args)) => crate::stream::produce_events(&args).await,
        Command::Stream(StreamCommand::Process(args)) => crate::stream::process(&args).await,
        Command::Compare(args) => crate::compare::run(&cli.lake, &args).await,
        Command::Status => status(&cli.lake).await,
        Command::Cluster(command) => cluster(command).await,
        Command::Jobs(args) => jobs(&cli.lake, &args).await,
    }
}

async fn cluster(command: ClusterCommand) -> Result<()> {
    match command {
        ClusterCommand::Up(args) => {
            let spec = ClusterSpec {
                bind_host: args.bind_host.clone(),
                scheduler_port: args.scheduler_port,
                executor_base_port: args.executor_base_port,
                executors: usize::from(args.executors),
                vcores: args.vcores,
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
        ClusterCommand::Status(args) => crate::cluster::status(&args.state_dir, None).await,
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

/// The scheduler `lake jobs` asks: --scheduler, else the local cluster's, else the default port.
fn jobs_scheduler(lake: &LakeArgs, state_dir: &Path) -> Result<String> {
    if let Some(url) = &lake.scheduler {
        return Ok(url.clone());
    }
    Ok(crate::cluster::ClusterState::load(state_dir)?
        .map(|state| state.scheduler_url)
        .unwrap_or_else(|| "df://127.0.0.1:50050".to_string()))
}

async fn jobs(lake: &LakeArgs, args: &JobsArgs) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use std::sync::Arc;

    let url = jobs_scheduler(lake, &args.state.state_dir)?;
    // Task placement is known for the local cluster, whose scheduler writes event logs there.
    let events_dir = args.state.state_dir.join("events");
    let api = SchedulerApi::new(&url)?;
    let jobs = api.jobs().await?;
    let shown: Vec<_> = jobs.iter().take(args.limit).collect();
    let now = crate::cluster::now_ms();
    let tasks: Vec<_> = shown
        .iter()
        .map(|j| crate::event_log::job_tasks(&events_dir, &j.id))
        .collect();
    let started = |ms: u64| {
        chrono::DateTime::from_timestamp_millis(ms as i64)
            .filter(|_| ms > 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "job_id",
            Arc::new(StringArray::from_iter_values(shown.iter().map(|j| &j.id))),
        ),
        (
            "name",
            Arc::new(StringArray::from_iter_values(shown.iter().map(|j| &j.name))),
        ),
        (
            "status",
            Arc::new(StringArray::from_iter_values(
                shown.iter().map(|j| &j.status),
            )),
        ),
        (
            "stages",
            Arc::new(StringArray::from_iter_values(
                shown
                    .iter()
                    .map(|j| format!("{}/{}", j.completed_stages, j.num_stages)),
            )),
        ),
        (
            "started_utc",
            Arc::new(StringArray::from_iter(
                shown.iter().map(|j| started(j.start_time_ms)),
            )),
        ),
        (
            "seconds",
            Arc::new(Float64Array::from_iter(
                shown
                    .iter()
                    .map(|j| j.duration_ms(now).map(|ms| ms as f64 / 1000.0)),
            )),
        ),
        (
            "tasks",
            Arc::new(StringArray::from_iter(tasks.iter().map(|t| {
                t.as_ref()
                    .map(|t| crate::event_log::format_counts(&t.per_executor))
            }))),
        ),
        (
            "last_stage_seconds",
            Arc::new(Float64Array::from_iter(tasks.iter().map(|t| {
                t.as_ref()
                    .and_then(|t| t.last_stage_ms)
                    .map(|ms| ms as f64 / 1000.0)
            }))),
        ),
        (
            "detail",
            Arc::new(StringArray::from_iter_values(
                shown.iter().map(|j| &j.detail),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).context("cannot build the job table")?;
    if args.format == crate::args::Format::Table {
        println!(
            "scheduler {url}: {} job(s), showing the {} most recent",
            jobs.len(),
            shown.len()
        );
    }
    print_batches(&[batch], args.format)
}

/// The reference time of a run: given, else the generator's (from its manifest in the source
/// folder), else now (UTC, to the second).
fn resolve_as_of(given: Option<NaiveDateTime>, source_dir: &Path) -> Result<NaiveDateTime> {
    if let Some(as_of) = given {
        return Ok(as_of);
    }
    let manifest_path = source_dir.join(lake_generator::MANIFEST_FILE);
    if manifest_path.exists() {
        let manifest = lake_generator::Manifest::read(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        return Ok(parse_as_of(&manifest.as_of)?);
    }
    let now = chrono::Utc::now().naive_utc();
    Ok(now.with_nanosecond(0).unwrap_or(now))
}

fn settings(args: &SettingsArgs) -> Result<RunSettings> {
    let given = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let mut settings = RunSettings::new(resolve_as_of(given, &args.sources)?);
    settings.seuil_montant_aberrant = args.seuil_montant_aberrant;
    settings.seuil_quarantaine = args.seuil_quarantaine;
    settings.seuil_completude = args.seuil_completude;
    settings.seuil_coherence = args.seuil_coherence;
    Ok(settings)
}

fn generate(args: &GenerateArgs) -> Result<lake_generator::Manifest> {
    let mut rates = DefectRates::default();
    if let Some(rate) = args.defect_rate {
        rates.default = rate;
    }
    for spec in &args.defects {
        rates.set_from_str(spec)?;
    }
    let config = GenerateConfig {
        scale: args.scale,
        seed: args.seed,
        as_of: parse_as_of(&args.as_of)?,
        rates,
        churn: args.churn_signal,
        out_dir: args.out.clone(),
    };
    let clock = Instant::now();
    let manifest = lake_generator::generate(&config)?;
    let seconds = clock.elapsed().as_secs_f64();
    let purchases = manifest.files.get("achats.csv").copied().unwrap_or(0);
    let clients = manifest.files.get("clients.csv").copied().unwrap_or(0);
    let defects: u64 = manifest.defects.values().sum();
    println!(
        "generated {} clients and {} purchases ({} defect rows) in {}: {:.2} s, {} purchase rows/s",
        group_digits(clients),
        group_digits(purchases),
        group_digits(defects),
        args.out.display(),
        seconds,
        group_digits((purchases as f64 / seconds.max(1e-9)) as u64)
    );
    Ok(manifest)
}

async fn ingest(session: &LakeSession, sources: &Path) -> Result<()> {
    let clock = Instant::now();
    let report = session
        .ingest(sources, |name| eprintln!("  ingesting {name}…"))
        .await
        .with_context(|| format!("cannot ingest {}", sources.display()))?;
    for file in &report.ingested {
        println!(
            "  {:<32} {:>12} rows  → {}",
            file.source_name,
            group_digits(file.rows),
            file.bronze_key
        );
    }
    for name in &report.unchanged {
        println!("  {name:<32} unchanged, skipped");
    }
    for name in &report.ignored {
        println!("  {name:<32} not a clients*/achats* CSV, ignored");
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    for refused in &report.refused {
        eprintln!("refused: {refused}");
    }
    println!(
        "ingest: {} file(s) ingested, {} unchanged, {} refused in {:.2} s",
        report.ingested.len(),
        report.unchanged.len(),
        report.refused.len(),
        clock.elapsed().as_secs_f64()
    );
    if !report.refused.is_empty() {
        bail!(
            "{} file(s) refused; nothing of them entered Bronze",
            report.refused.len()
        );
    }
    Ok(())
}

/// Builds and publishes one layer, with a progress line per model.
async fn build_layer(session: &LakeSession, layer: Layer, settings: &RunSettings) -> Result<()> {
    let progress = StageProgress::new(layer.name());
    let clock = Instant::now();
    let result = match layer {
        Layer::Silver => session.run_silver(settings, |e| progress.on_event(e)).await,
        Layer::Gold => session.run_gold(settings, |e| progress.on_event(e)).await,
        Layer::Ml => bail!("the ML layer is built by `lake ml`, not by SQL models"),
    };
    progress.finish();
    let unchanged = match layer {
        Layer::Silver => "Silver and Gold are",
        Layer::Gold | Layer::Ml => "Gold is",
    };
    let manifest = result.with_context(|| {
        format!(
            "{} failed; the previously published {unchanged} unchanged",
            layer.name()
        )
    })?;
    println!(
        "{}: published run {} (as_of {}) in {:.2} s",
        layer.name(),
        manifest.run_id,
        manifest.as_of,
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn run(lake: &LakeArgs, args: &RunArgs) -> Result<()> {
    let total = Instant::now();
    let sources = &args.settings.sources;
    let found = source_entities(sources);
    if found.is_empty() && sources.as_path() != Path::new(crate::args::DEFAULT_SOURCES) {
        if !sources.is_dir() {
            bail!(
                "the sources folder {} does not exist (only the default folder {} is filled \
                 with generated data when empty)",
                sources.display(),
                crate::args::DEFAULT_SOURCES
            );
        }
        bail!(
            "the sources folder {} holds no clients*.csv or achats*.csv file",
            sources.display()
        );
    }
    if found.is_empty() {
        println!(
            "== generate: no sources in {}, generating SF {} (seed {})",
            sources.display(),
            args.scale,
            args.seed
        );
        generate(&GenerateArgs {
            scale: args.scale,
            seed: args.seed,
            as_of: "2026-01-01".into(),
            out: sources.clone(),
            defect_rate: None,
            defects: Vec::new(),
            churn_signal: lake_generator::ChurnSignal::default(),
        })?;
    }
    let session = open(lake).await?;
    println!("== lake {} on {}", session.lake.root(), session.engine);
    println!("== ingest {}", sources.display());
    ingest(&session, sources).await?;
    let settings = settings(&args.settings)?;
    // A layer already published from the same inputs and settings is not built again.
    let mut changed = false;
    for layer in [Layer::Silver, Layer::Gold] {
        let current = if args.force || changed {
            None
        } else {
            session.current_if_up_to_date(layer, &settings).await?
        };
        match current {
            Some(run) => println!(
                "== {}: up to date (run {}, from the same inputs, settings and SQL; --force builds \
                 it again)",
                layer.name(),
                run.run_id
            ),
            None => {
                match layer {
                    Layer::Silver => println!("== silver (as_of {})", settings.as_of),
                    _ => println!("== {}", layer.name()),
                }
                build_layer(&session, layer, &settings).await?;
                changed = true;
            }
        }
    }
    if args.no_ml {
        println!("== ml: skipped (--no-ml)");
    } else if !changed && !args.force && ml_up_to_date(&session, &args.ml).await? {
        println!("== ml: up to date (trained on the current Gold with the same settings)");
    } else {
        println!("== ml");
        ml(&session, &args.ml).await?;
    }
    let (kpis, segments) = session.summary().await?;
    println!("== KPIs");
    print_batches(&kpis, crate::args::Format::Table)?;
    println!("== largest RFM segments");
    print_batches(&segments, crate::args::Format::Table)?;
    println!("lake run: done in {:.2} s", total.elapsed().as_secs_f64());
    Ok(())
}

/// Whether the published ML run was trained on the current Gold with these settings.
async fn ml_up_to_date(session: &LakeSession, args: &MlArgs) -> Result<bool> {
    let (Some(gold), Some(ml)) = (
        lake_core::publish::current(&session.lake, Layer::Gold).await?,
        lake_core::publish::current(&session.lake, Layer::Ml).await?,
    ) else {
        return Ok(false);
    };
    let setting = |name: &str| ml.settings.get(name).cloned().unwrap_or_default();
    Ok(
        ml.inputs.first().map(|i| i.version.as_str()) == Some(gold.run_id.as_str())
            && setting("horizon_jours") == args.horizon_days.to_string()
            && setting("graine") == args.ml_seed.to_string()
            && setting("k") == format!("{}..={}", args.k_min, args.k_max),
    )
}

/// Trains the segmentation and the churn model on the published Gold and publishes gold/ml/.
async fn ml(session: &LakeSession, args: &MlArgs) -> Result<()> {
    if args.k_min > args.k_max {
        bail!(
            "--k-min {} is above --k-max {}: give a range such as --k-min 3 --k-max 8",
            args.k_min,
            args.k_max
        );
    }
    let config = lake_ml::MlConfig {
        horizon_days: args.horizon_days,
        segmentation: lake_ml::SegmentationConfig {
            k_min: usize::from(args.k_min),
            k_max: usize::from(args.k_max),
            seed: args.ml_seed,
            ..Default::default()
        },
    };
    let clock = Instant::now();
    let (manifest, summary) = lake_ml::run_ml(session, &config, |step| {
        eprintln!("  ml: {step}…");
    })
    .await
    .context("the ML stage failed; the previously published gold/ml/ is unchanged")?;
    let ref_date = summary
        .ref_date
        .map_or_else(|| "none (no purchase)".to_string(), |d| d.to_string());
    match &summary.segmentation {
        Ok(segmentation) => {
            let tried: Vec<String> = segmentation
                .silhouettes
                .iter()
                .map(|(k, s)| format!("k={k}: {s:.3}"))
                .collect();
            println!(
                "ml: {} buyers at ref_date {ref_date}; segmentation k = {} (silhouette {:.3}; {})",
                group_digits(summary.buyers as u64),
                segmentation.k,
                segmentation.silhouette,
                tried.join(", ")
            );
            for s in &segmentation.segments {
                println!(
                    "  segment {} {:<40} {:>8} clients ({:>5.1} %)",
                    s.number,
                    s.label,
                    group_digits(s.size as u64),
                    s.share * 100.0
                );
            }
        }
        Err(reason) => println!(
            "ml: {} buyers at ref_date {ref_date}; no segmentation: {reason}",
            group_digits(summary.buyers as u64)
        ),
    }
    match &summary.churn {
        Ok(r) => println!(
            "ml: churn (H = {} days) trained at {} on {} buyers, judged at {} on {}: \
             ROC-AUC {:.3} (recency alone {:.3}), PR-AUC {:.3} (recency alone {:.3}, \
             churn share {:.3}); fitted in {:.2} s",
            config.horizon_days,
            r.cutoffs.train.date(),
            group_digits(r.train_clients as u64),
            r.cutoffs.evaluation.date(),
            group_digits(r.evaluation_clients as u64),
            r.model.roc_auc,
            r.baseline.roc_auc,
            r.model.pr_auc,
            r.baseline.pr_auc,
            r.model.positive_share,
            r.train_seconds
        ),
        Err(reason) => println!("ml: no churn scores: {reason}"),
    }
    println!(
        "ml: published run {} (from gold run {}) in {:.2} s",
        manifest.run_id,
        manifest.inputs.first().map_or("?", |i| i.version.as_str()),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `lake mongo load`: the published Gold and ML into MongoDB, then the pointer switch.
async fn mongo_load(lake: &LakeArgs, load_args: &MongoLoadArgs) -> Result<()> {
    let store = open_lake(lake).await?;
    let args = &load_args.mongo;
    let db = lake_api::mongo::connect(&args.mongo_url, &args.mongo_db)
        .await
        .with_context(|| format!("invalid MongoDB URL {}", args.mongo_url))?;
    let options = lake_api::mongo::load::LoadOptions {
        reload: load_args.reload,
    };
    let outcome = lake_api::mongo::load::load(&store, &db, options, |event| match event {
        lake_api::mongo::load::LoadEvent::Table {
            table,
            rows,
            seconds,
        } => println!(
            "  {table:<24} {:>12} documents {seconds:>8.2} s",
            group_digits(rows)
        ),
        // Readers see the new version from this line on (the refresh benchmark times it).
        lake_api::mongo::load::LoadEvent::Switched { version, loaded_at } => {
            println!("  switched the pointer to {version} at {loaded_at}")
        }
    })
    .await
    .with_context(|| {
        format!(
            "loading into {} (database {}) failed; the version served before is unchanged",
            args.mongo_url, args.mongo_db
        )
    })?;
    match outcome {
        lake_api::mongo::load::LoadOutcome::Unchanged { version } => {
            println!("mongo: version {version} is already served; nothing to load");
        }
        lake_api::mongo::load::LoadOutcome::Loaded {
            version,
            tables,
            dropped,
            seconds,
        } => {
            let documents: u64 = tables.values().map(|(rows, _)| rows).sum();
            println!(
                "mongo: loaded version {version}: {} tables, {} documents in {seconds:.2} s; \
                 dropped {} old collection(s)",
                tables.len(),
                group_digits(documents),
                dropped.len()
            );
        }
    }
    Ok(())
}

async fn sql(lake: &LakeArgs, args: &SqlArgs) -> Result<()> {
    let query = match (&args.query, &args.file) {
        (Some(q), _) => q.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => bail!("give a query or -f FILE"),
    };
    let session = open(lake).await?;
    let batches = session.query(&query).await?;
    print_batches(&batches, args.format)
}

async fn status(lake: &LakeArgs) -> Result<()> {
    let options = lake_options(lake)?;
    let store = lake_core::Lake::open(&options.location, &options.s3)?;
    if store.is_s3() {
        store.probe().await?;
    }
    let bronze = lake_core::ingest::BronzeManifest::load(&store).await?;
    println!("lake {}", store.root());
    println!("bronze: {} file(s)", bronze.files.len());
    for f in &bronze.files {
        println!(
            "  {:<8} {:<32} {:>12} rows  sha256 {}",
            f.entity.name(),
            f.source_name,
            group_digits(f.rows),
            &f.sha256[..12]
        );
    }
    for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
        match lake_core::publish::current(&store, layer).await? {
            None => println!("{}: not published", layer.name()),
            Some(m) => {
                println!(
                    "{}: run {} (as_of {}, engine {}, finished {})",
                    layer.name(),
                    m.run_id,
                    m.as_of,
                    m.engine,
                    m.finished_at
                );
                for (table, t) in &m.tables {
                    println!("  {:<24} {:>12} rows", table, group_digits(t.rows));
                }
            }
        }
    }
    Ok(())
}
