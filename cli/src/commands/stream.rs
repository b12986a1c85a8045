//! `lake stream setup | produce | process`: the Kafka side of the lake (crate lake-stream).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use lake_stream::detect::DetectorConfig;
use lake_stream::kafka::{Pacing, Topics, produce};
use lake_stream::metrics::{self, StreamMetrics};
use lake_stream::process::{ProcessConfig, run};
use lake_stream::simulate::{Injection, Lateness, Simulation, SimulationConfig};
use lake_stream::window::WindowConfig;

use crate::args::{StreamClock, StreamProcessArgs, StreamProduceArgs, StreamSetupArgs};

pub async fn setup(args: &StreamSetupArgs) -> Result<()> {
    let topics = Topics::new(&args.kafka.brokers, &args.kafka.topic);
    let retention = Duration::from_secs(args.retention_hours * 3600);
    let created = topics
        .create(args.topic_partitions, retention)
        .await
        .with_context(|| format!("setting up topics on {}", args.kafka.brokers))?;
    for (topic, new) in created {
        let what = if new {
            "created"
        } else {
            "already there, kept"
        };
        println!("{topic:<32} {what}");
    }
    Ok(())
}

fn seconds_to_ms(seconds: f64, flag: &str) -> Result<i64> {
    if !seconds.is_finite() || seconds < 0.0 {
        bail!("--{flag} {seconds} is not a number of seconds");
    }
    Ok((seconds * 1000.0) as i64)
}

pub async fn produce_events(args: &StreamProduceArgs) -> Result<()> {
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!(
            "--rate {} is not a positive number of events per second",
            args.rate
        );
    }
    if !(0.0..=1.0).contains(&args.late_fraction) {
        bail!(
            "--late-fraction {} is not a share between 0 and 1",
            args.late_fraction
        );
    }
    let start_ms = match (&args.start, args.clock) {
        (Some(start), StreamClock::Simulated) => chrono::DateTime::parse_from_rfc3339(start)
            .with_context(|| format!("--start {start:?} is not an RFC 3339 time"))?
            .timestamp_millis(),
        (Some(_), StreamClock::Wall) => bail!("--start needs --clock simulated"),
        (None, _) => chrono::Utc::now().timestamp_millis(),
    };
    let injections = args
        .injections
        .iter()
        .map(|text| Injection::parse(text, start_ms))
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let config = SimulationConfig {
        rate: args.rate,
        start_ms,
        duration_ms: seconds_to_ms(args.duration, "duration")?,
        clients: args.clients,
        seed: args.seed,
        injections: injections.clone(),
        late: (args.late_fraction > 0.0)
            .then(|| -> Result<Lateness> {
                Ok(Lateness {
                    fraction: args.late_fraction,
                    max_delay_ms: seconds_to_ms(args.late_max, "late-max")?,
                })
            })
            .transpose()?,
    };
    if let Some(path) = &args.ground_truth {
        let json = serde_json::to_string_pretty(&injections)?;
        std::fs::write(path, json).with_context(|| format!("writing {}", path.display()))?;
    }
    let topics = Topics::new(&args.kafka.brokers, &args.kafka.topic);
    let pacing = match args.clock {
        StreamClock::Wall => Pacing::Wall,
        StreamClock::Simulated => Pacing::Fastest,
    };
    let log_path = args.log.clone();
    let report = tokio::task::spawn_blocking(move || -> Result<_> {
        let mut log = match &log_path {
            Some(path) => Some(BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            )),
            None => None,
        };
        let report = produce(
            &topics,
            Simulation::new(config),
            pacing,
            log.as_mut().map(|l| l as &mut dyn Write),
            |sent| eprint!("\r{sent} events sent"),
        )?;
        if let Some(log) = log.as_mut() {
            log.flush()?;
        }
        Ok(report)
    })
    .await??;
    eprintln!();
    println!(
        "{} events sent in {:.2} s ({:.0} events/s), {} not delivered",
        report.sent,
        report.seconds,
        report.sent as f64 / report.seconds.max(1e-9),
        report.failed
    );
    if report.failed > 0 {
        bail!(
            "{} events were not delivered (see the warnings above)",
            report.failed
        );
    }
    Ok(())
}

pub async fn process(args: &StreamProcessArgs) -> Result<()> {
    if args.window == 0 {
        crate::exit::usage!("--window must be at least 1 second");
    }
    let db = flight_api::mongo::connect(&args.mongo.mongo_url, &args.mongo.mongo_db)
        .await
        .with_context(|| format!("invalid MongoDB URL {}", args.mongo.mongo_url))?;
    let config = ProcessConfig {
        topics: Topics::new(&args.kafka.brokers, &args.kafka.topic),
        group: args.group.clone(),
        window: WindowConfig {
            size_ms: i64::from(args.window) * 1000,
            lateness_ms: i64::from(args.lateness) * 1000,
        },
        detector: DetectorConfig {
            threshold: args.threshold,
            min_count: args.min_count,
            ..DetectorConfig::default()
        },
        idle_close: Duration::from_millis(seconds_to_ms(args.idle_close, "idle-close")? as u64),
        stop_when_idle: args
            .stop_when_idle
            .map(|s| seconds_to_ms(s, "stop-when-idle").map(|ms| Duration::from_millis(ms as u64)))
            .transpose()?,
        batch: 20_000,
    };
    let counted = Arc::new(StreamMetrics::new().context("setting up the metrics")?);
    // Served while the processor runs; the server stops with the command.
    let _server = match args.metrics_bind {
        None => None,
        Some(addr) => {
            let (bound, task) = metrics::serve(addr, counted.clone())
                .await
                .with_context(|| format!("cannot serve the metrics on {addr} (--metrics-bind)"))?;
            eprintln!("metrics: http://{bound}/metrics");
            Some(AbortOnDrop(task))
        }
    };
    let mut shown = lake_stream::process::ProcessReport::default();
    let report = run(&config, db, &counted, |report| {
        if report.events / 100_000 != shown.events / 100_000 || report.alerts != shown.alerts {
            eprintln!(
                "{} events, {} windows written, {} late, {} dead letters, {} alerts",
                report.events,
                report.windows_written,
                report.late,
                report.dead_letters,
                report.alerts
            );
            shown = *report;
        }
    })
    .await
    .context("stream processing stopped")?;
    println!(
        "{} events, {} partition windows written, {} late, {} dead letters, {} alerts",
        report.events, report.windows_written, report.late, report.dead_letters, report.alerts
    );
    Ok(())
}

/// A background task stopped when its owner goes.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
