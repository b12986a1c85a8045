//! One function per subcommand.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use lake_core::session::{has_sources, parse_as_of, resolve_as_of};
use lake_core::{EngineKind, LakeOptions, LakeSession, Layer, RunSettings, S3Options};
use lake_generator::{DefectRates, GenerateConfig};

use crate::args::{
    Cli, Command, GenerateArgs, LakeArgs, LocalEngine, RunArgs, SettingsArgs, SqlArgs,
};
use crate::output::print_batches;
use crate::progress::{StageProgress, group_digits};

pub async fn dispatch(cli: Cli) -> Result<()> {
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
        Command::Run(args) => run(&cli.lake, &args).await,
        Command::Sql(args) => sql(&cli.lake, &args).await,
        Command::Status => status(&cli.lake).await,
    }
}

fn lake_options(args: &LakeArgs) -> Result<LakeOptions> {
    let engine = match (&args.scheduler, args.engine) {
        (Some(url), _) => url
            .parse::<EngineKind>()
            .with_context(|| format!("--scheduler {url}"))?,
        (None, LocalEngine::Standalone) => EngineKind::Standalone,
        (None, LocalEngine::Datafusion) => EngineKind::DataFusion,
    };
    Ok(LakeOptions {
        location: args.lake.clone(),
        s3: S3Options {
            endpoint: args.s3_endpoint.clone(),
            access_key_id: args.s3_access_key_id.clone(),
            secret_access_key: args.s3_secret_access_key.clone(),
            region: args.s3_region.clone(),
            allow_http: args.s3_allow_http,
        },
        engine,
        partitions: args
            .partitions
            .unwrap_or_else(lake_core::engine::default_partitions),
        sql_dir: args.sql_dir.clone(),
    })
}

async fn open(args: &LakeArgs) -> Result<LakeSession> {
    let options = lake_options(args)?;
    LakeSession::open(&options).await.with_context(|| {
        format!(
            "cannot open the lake {} on {}",
            options.location, options.engine
        )
    })
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
    };
    progress.finish();
    let unchanged = match layer {
        Layer::Silver => "Silver and Gold are",
        Layer::Gold => "Gold is",
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
    if !has_sources(sources) {
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
        })?;
    }
    let session = open(lake).await?;
    println!("== lake {} on {}", session.lake.root(), session.engine);
    println!("== ingest {}", sources.display());
    ingest(&session, sources).await?;
    let settings = settings(&args.settings)?;
    println!("== silver (as_of {})", settings.as_of);
    build_layer(&session, Layer::Silver, &settings).await?;
    println!("== gold");
    build_layer(&session, Layer::Gold, &settings).await?;
    let (kpis, segments) = session.summary().await?;
    println!("== KPIs");
    print_batches(&kpis, crate::args::Format::Table)?;
    println!("== largest RFM segments");
    print_batches(&segments, crate::args::Format::Table)?;
    println!("lake run: done in {:.2} s", total.elapsed().as_secs_f64());
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
    for layer in [Layer::Silver, Layer::Gold] {
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
