//! `lake bench stream`: the stream processor with the producer on the same machine.
//!
//! Each run creates two new topics (4 partitions). Throughput: the processor starts, then the
//! producer sends `--events` events as fast as it can (simulated clock); the figure is the
//! events read divided by the time from the processor's first event to its last. Latency: the
//! producer sends `--rate` events/s for `--seconds` on the wall clock, with an abandoned-cart
//! spike in France from two thirds of the way for 20 s; an event's latency runs from its
//! creation (its event time) to the moment its window's metrics are in MongoDB, and the alert's
//! from the spike's start to the alert. The first window (the processor joining its group) and
//! the last (closed by idleness, not by the watermark) are left out of the latency sample.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::TryStreamExt;
use lake_stream::detect::DetectorConfig;
use lake_stream::kafka::{Pacing, Topics, produce};
use lake_stream::metrics::StreamMetrics;
use lake_stream::process::{ProcessConfig, ProcessReport, run as process};
use lake_stream::simulate::{Injection, Scenario, Simulation, SimulationConfig};
use lake_stream::sink;
use lake_stream::window::WindowConfig;
use mongodb::bson::{Document, doc};
use serde_json::json;

use crate::stats::{Spread, group_digits, percentile};
use crate::{Kafka, Mongo};

/// What `lake bench stream` measures with.
#[derive(Debug, Clone)]
pub struct StreamBenchConfig {
    /// The broker and the events topic.
    pub kafka: Kafka,
    /// Where the processor writes its windows and alerts.
    pub mongo: Mongo,
    /// Events of the throughput part, sent as fast as the producer goes.
    pub events: u64,
    /// Events per second of the latency part (wall clock).
    pub rate: f64,
    /// Seconds of the latency part.
    pub seconds: u32,
    /// Window size of the processor, in seconds.
    pub window: u32,
    /// Allowed lateness of the processor, in seconds.
    pub lateness: u32,
    /// Repetitions of both parts (medians are reported).
    pub runs: u32,
    /// Write `stream-<date>-<label>.json` and `.md` into this folder.
    pub out: Option<std::path::PathBuf>,
    /// Label of the result files.
    pub label: String,
}

const PARTITIONS: i32 = 4;
/// Length of the injected spike.
const SPIKE_MS: i64 = 20_000;

struct RunFigures {
    processed_per_second: f64,
    produced_per_second: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    events_measured: usize,
    alert_after_ms: Option<f64>,
}

/// Runs the throughput and latency parts `args.runs` times against Kafka and MongoDB; prints
/// and writes the medians.
pub async fn run(args: &StreamBenchConfig) -> Result<()> {
    if !(args.rate.is_finite() && args.rate > 0.0) || args.window == 0 || args.events == 0 {
        bail!("--rate, --window and --events must be positive");
    }
    let db = flight_api::mongo::connect(&args.mongo.mongo_url, &args.mongo.mongo_db)
        .await
        .with_context(|| format!("invalid MongoDB URL {}", args.mongo.mongo_url))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S").to_string();
    println!(
        "bench stream: {} run(s); throughput on {} events, latency at {} events/s for {} s \
         (window {} s, lateness {} s); Kafka {}, MongoDB {}",
        args.runs,
        group_digits(args.events),
        args.rate,
        args.seconds,
        args.window,
        args.lateness,
        args.kafka.brokers,
        args.mongo.mongo_url
    );
    let mut runs = Vec::new();
    for n in 1..=args.runs {
        let prefix = format!("{}.bench-{stamp}-{n}", args.kafka.topic);
        let (processed, produced) = throughput(args, &db, &format!("{prefix}-debit")).await?;
        let latency = latency(args, &db, &format!("{prefix}-latence")).await?;
        let figures = RunFigures {
            processed_per_second: processed,
            produced_per_second: produced,
            latency_p50_ms: latency.0,
            latency_p99_ms: latency.1,
            events_measured: latency.2,
            alert_after_ms: latency.3,
        };
        println!(
            "run {n}: processed {} events/s (producer {} events/s); latency to the window in \
             MongoDB p50 {:.0} ms, p99 {:.0} ms over {} events; spike alerted after {}",
            group_digits(figures.processed_per_second.round() as u64),
            group_digits(figures.produced_per_second.round() as u64),
            figures.latency_p50_ms,
            figures.latency_p99_ms,
            group_digits(figures.events_measured as u64),
            figures
                .alert_after_ms
                .map_or("no alert".to_string(), |ms| format!("{ms:.0} ms")),
        );
        runs.push(figures);
    }
    let report = markdown(args, &runs);
    println!("{report}");
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let date = chrono::Utc::now().format("%Y-%m-%d");
        let base = dir.join(format!("stream-{date}-{}", args.label));
        let raw = json!({
            "runs": runs.iter().map(|r| json!({
                "processed_events_per_second": r.processed_per_second,
                "produced_events_per_second": r.produced_per_second,
                "latency_p50_ms": r.latency_p50_ms,
                "latency_p99_ms": r.latency_p99_ms,
                "latency_events": r.events_measured,
                "alert_after_ms": r.alert_after_ms,
            })).collect::<Vec<_>>(),
            "events": args.events,
            "rate": args.rate,
            "seconds": args.seconds,
            "window_seconds": args.window,
            "lateness_seconds": args.lateness,
            "partitions": PARTITIONS,
            "mongo_url": args.mongo.mongo_url,
        });
        std::fs::write(
            base.with_extension("json"),
            serde_json::to_string_pretty(&raw)?,
        )?;
        std::fs::write(base.with_extension("md"), &report)?;
        println!("wrote {}.json and .md", base.display());
    }
    Ok(())
}

fn config(args: &StreamBenchConfig, topics: Topics, group: &str) -> ProcessConfig {
    ProcessConfig {
        topics,
        group: group.to_string(),
        window: WindowConfig {
            size_ms: i64::from(args.window) * 1000,
            lateness_ms: i64::from(args.lateness) * 1000,
        },
        detector: DetectorConfig::default(),
        idle_close: Duration::from_secs(1),
        stop_when_idle: Some(Duration::from_secs(3)),
        batch: 20_000,
    }
}

/// `(events processed per second, events produced per second)`.
async fn throughput(
    args: &StreamBenchConfig,
    db: &mongodb::Database,
    topic: &str,
) -> Result<(f64, f64)> {
    let topics = Topics::new(&args.kafka.brokers, topic);
    topics
        .create(PARTITIONS, Duration::from_secs(3600))
        .await
        .context("creating the throughput topic")?;
    let total = args.events;
    // When the processor read its first event, and when it had read them all.
    let marks: Arc<Mutex<(Option<Instant>, Option<Instant>)>> = Arc::default();
    let processor = {
        let config = config(args, topics.clone(), &format!("{topic}-group"));
        let (db, marks) = (db.clone(), Arc::clone(&marks));
        // Counted as `lake stream process` counts (its metrics cost included in the figures).
        let metrics = StreamMetrics::new().context("setting up the processor's metrics")?;
        tokio::spawn(async move {
            process(&config, db, &metrics, |report: &ProcessReport| {
                if let Ok(mut marks) = marks.lock() {
                    if report.events > 0 && marks.0.is_none() {
                        marks.0 = Some(Instant::now());
                    }
                    if report.events >= total && marks.1.is_none() {
                        marks.1 = Some(Instant::now());
                    }
                }
            })
            .await
        })
    };
    let simulation = SimulationConfig {
        rate: 10_000.0,
        start_ms: chrono::Utc::now().timestamp_millis(),
        duration_ms: (total as f64 / 10.0).ceil() as i64,
        clients: 100_000,
        seed: 1,
        injections: Vec::new(),
        late: None,
    };
    let produced = tokio::task::spawn_blocking(move || {
        produce(
            &topics,
            Simulation::new(simulation),
            Pacing::Fastest,
            None,
            |_| {},
        )
    })
    .await??;
    let report = processor.await??;
    if report.events < total {
        bail!("the processor read {} of {total} events", report.events);
    }
    let (first, last) = *marks
        .lock()
        .map_err(|_| anyhow::anyhow!("marks poisoned"))?;
    let (Some(first), Some(last)) = (first, last) else {
        bail!("the processor did not report its progress");
    };
    let seconds = last.duration_since(first).as_secs_f64().max(1e-3);
    Ok((
        report.events as f64 / seconds,
        produced.sent as f64 / produced.seconds.max(1e-3),
    ))
}

/// `(p50 ms, p99 ms, events measured, spike alert delay ms)`.
async fn latency(
    args: &StreamBenchConfig,
    db: &mongodb::Database,
    topic: &str,
) -> Result<(f64, f64, usize, Option<f64>)> {
    let topics = Topics::new(&args.kafka.brokers, topic);
    topics
        .create(PARTITIONS, Duration::from_secs(3600))
        .await
        .context("creating the latency topic")?;
    let processor = {
        let config = config(args, topics.clone(), &format!("{topic}-group"));
        let db = db.clone();
        let metrics = StreamMetrics::new().context("setting up the processor's metrics")?;
        tokio::spawn(async move { process(&config, db, &metrics, |_| {}).await })
    };
    let start_ms = chrono::Utc::now().timestamp_millis();
    let duration_ms = i64::from(args.seconds) * 1000;
    let spike_start = start_ms + duration_ms * 2 / 3;
    let simulation = SimulationConfig {
        rate: args.rate,
        start_ms,
        duration_ms,
        clients: 100_000,
        seed: 2,
        injections: vec![Injection {
            scenario: Scenario::AbandonSpike {
                pays: "France".into(),
            },
            start_ms: spike_start,
            end_ms: spike_start + SPIKE_MS,
        }],
        late: None,
    };
    let mut log = Vec::new();
    let log = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
        produce(
            &topics,
            Simulation::new(simulation),
            Pacing::Wall,
            Some(&mut log),
            |_| {},
        )?;
        Ok(log)
    })
    .await??;
    processor.await??;

    let written = written_at(db, topic, sink::WINDOWS).await?;
    let size_ms = i64::from(args.window) * 1000;
    let first_window = start_ms.div_euclid(size_ms) * size_ms;
    let last_window = (start_ms + duration_ms - 1).div_euclid(size_ms) * size_ms;
    let mut latencies = Vec::new();
    for line in String::from_utf8_lossy(&log).lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (Some(time), Some(kind), Some(pays)) = (
            fields.get(1).and_then(|t| t.parse::<i64>().ok()),
            fields.get(2),
            fields.get(3),
        ) else {
            continue;
        };
        let window = time.div_euclid(size_ms) * size_ms;
        if window == first_window || window == last_window {
            continue;
        }
        match written.get(&format!("{topic}|{window}|{kind}|{pays}")) {
            Some(at) => latencies.push((at - time) as f64),
            None => {
                bail!("no window metrics for {kind} in {pays} at {window}: the processor lost it")
            }
        }
    }
    let alerts = written_at(db, topic, sink::ALERTS).await?;
    let alert = alerts
        .iter()
        .filter(|(id, _)| {
            id.contains("France")
                && (id.contains("part_abandon") || id.contains("panier_abandonne"))
        })
        .filter_map(|(id, at)| {
            let window: i64 = id.split('|').nth(1)?.parse().ok()?;
            (window + size_ms > spike_start).then_some(*at)
        })
        .min()
        .map(|at| (at - spike_start) as f64);
    Ok((
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.len(),
        alert,
    ))
}

/// `_id` → when it was written (`written_at` or `detected_at`), in ms since the epoch.
async fn written_at(
    db: &mongodb::Database,
    topic: &str,
    collection: &str,
) -> Result<HashMap<String, i64>> {
    let documents: Vec<Document> = db
        .collection::<Document>(collection)
        .find(doc! { "topic": topic })
        .await?
        .try_collect()
        .await?;
    let mut written = HashMap::new();
    for d in documents {
        let at = d
            .get_str("written_at")
            .or_else(|_| d.get_str("detected_at"))
            .ok()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_millis());
        if let (Ok(id), Some(at)) = (d.get_str("_id"), at) {
            written.insert(id.to_string(), at);
        }
    }
    Ok(written)
}

fn markdown(args: &StreamBenchConfig, runs: &[RunFigures]) -> String {
    let spread = |f: fn(&RunFigures) -> f64| {
        Spread::of(
            &runs
                .iter()
                .map(f)
                .filter(|v| v.is_finite())
                .collect::<Vec<_>>(),
        )
    };
    let (processed, produced, p50, p99) = (
        spread(|r| r.processed_per_second),
        spread(|r| r.produced_per_second),
        spread(|r| r.latency_p50_ms),
        spread(|r| r.latency_p99_ms),
    );
    let alerts: Vec<f64> = runs.iter().filter_map(|r| r.alert_after_ms).collect();
    let alert = Spread::of(&alerts);
    format!(
        "\n## Stream processing ({} runs, {} partitions, MongoDB {})\n\n\
         | figure | median | min | max | goal |\n|---|---:|---:|---:|---|\n\
         | processor throughput, producer beside it (events/s) | {:.0} | {:.0} | {:.0} | ≥ 100 000 |\n\
         | producer send rate in that part (events/s) | {:.0} | {:.0} | {:.0} | |\n\
         | event → its window in MongoDB, p50 (ms) | {:.0} | {:.0} | {:.0} | |\n\
         | event → its window in MongoDB, p99 (ms) | {:.0} | {:.0} | {:.0} | ≤ {} |\n\
         | spike start → alert (ms), {} of {} runs alerted | {:.0} | {:.0} | {:.0} | |\n\n\
         Throughput: {} events sent as fast as possible. Latency: {} events/s for {} s on the wall \
         clock, window {} s, lateness {} s.\n\n\
         Reproduce: `lake bench stream --brokers {} --mongo-url URL --events {} --rate {} \
         --seconds {} --window {} --lateness {} --runs {}`\n",
        runs.len(),
        PARTITIONS,
        args.mongo.mongo_url,
        processed.median,
        processed.min,
        processed.max,
        produced.median,
        produced.min,
        produced.max,
        p50.median,
        p50.min,
        p50.max,
        p99.median,
        p99.min,
        p99.max,
        (i64::from(args.window) + 1) * 1000,
        alerts.len(),
        runs.len(),
        alert.median,
        alert.min,
        alert.max,
        group_digits(args.events),
        args.rate,
        args.seconds,
        args.window,
        args.lateness,
        args.kafka.brokers,
        args.events,
        args.rate,
        args.seconds,
        args.window,
        args.lateness,
        args.runs,
    )
}
