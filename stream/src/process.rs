//! The consumer-group processor.
//!
//! Each cycle reads a batch of events, places them in their partition's windows, and then, in
//! this order: waits for the dead letters to be acknowledged, writes the closed windows and the
//! late events, saves each partition's checkpoint (next offset + windows state), commits the
//! offsets to Kafka, and runs detection over the windows every partition has closed.
//!
//! A crash anywhere replays from the last checkpoint: the Kafka offset committed is never past
//! it (events before the checkpoint's offset are skipped), and the windows decide exactly as
//! before (see [`crate::window`]), so each window is written with the same counts and counted
//! once. Partitions are shared by every process of the consumer group; a partition taken away
//! is dropped, and its new owner starts from its checkpoint.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::time::{Duration, Instant};

use futures::future::join_all;
use mongodb::Database;
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

use crate::StreamError;
use crate::detect::DetectorConfig;
use crate::event::Event;
use crate::kafka::Topics;
use crate::metrics::StreamMetrics;
use crate::sink::{Checkpoint, Sink};
use crate::window::{ClosedWindow, Placed, WindowConfig};

#[derive(Debug, Clone)]
pub struct ProcessConfig {
    pub topics: Topics,
    pub group: String,
    pub window: WindowConfig,
    pub detector: DetectorConfig,
    /// A partition with no new event for this long closes all its windows.
    pub idle_close: Duration,
    /// Stop after this long without any event (for tests and benchmarks); `None` runs on.
    pub stop_when_idle: Option<Duration>,
    /// Most events read between two writes.
    pub batch: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessReport {
    pub events: u64,
    pub late: u64,
    pub dead_letters: u64,
    pub windows_written: u64,
    pub alerts: u64,
}

struct PartitionState {
    checkpoint: Checkpoint,
    /// Events below this offset are already in the checkpoint (Kafka's commit lags it).
    skip_below: i64,
    last_event: Instant,
    dirty: bool,
}

impl PartitionState {
    /// From a saved checkpoint, or from nothing (a partition never processed).
    fn resume(checkpoint: Option<Checkpoint>) -> Self {
        let checkpoint = checkpoint.unwrap_or(Checkpoint {
            offset: 0,
            windows: Default::default(),
        });
        Self {
            skip_below: checkpoint.offset,
            checkpoint,
            last_event: Instant::now(),
            dirty: false,
        }
    }
}

/// What one cycle must write.
#[derive(Default)]
struct Pending {
    windows: Vec<(i32, ClosedWindow)>,
    late: Vec<(i32, i64, Event, i64)>,
    dead_letters: Vec<(i32, i64, String, Vec<u8>)>,
}

/// Longest wait for a batch to fill.
const BATCH_WAIT: Duration = Duration::from_millis(100);

/// How often the partitions' ends are asked of the broker, for the lag gauges.
const LAG_EVERY: Duration = Duration::from_secs(1);

/// Processes the events topic until stopped (or idle, see [`ProcessConfig::stop_when_idle`]),
/// counting in `metrics` and calling `on_cycle` with the report after every cycle.
pub async fn run(
    config: &ProcessConfig,
    db: Database,
    metrics: &StreamMetrics,
    mut on_cycle: impl FnMut(&ProcessReport),
) -> Result<ProcessReport, StreamError> {
    let topics = &config.topics;
    let partitions = topics.partitions()?;
    let consumer: StreamConsumer = topics
        .client_config()
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("partition.assignment.strategy", "cooperative-sticky")
        .create()
        .map_err(|e| StreamError::kafka("connecting the consumer", e))?;
    consumer
        .subscribe(&[&topics.events])
        .map_err(|e| StreamError::kafka("subscribing", e))?;
    let dead_letters: FutureProducer = topics
        .client_config()
        .create()
        .map_err(|e| StreamError::kafka("connecting the dead-letter producer", e))?;
    let sink = Sink::new(db, &topics.events);
    sink.ensure_indexes().await?;

    let mut states: HashMap<i32, PartitionState> = HashMap::new();
    let mut report = ProcessReport::default();
    let mut last_event = Instant::now();
    let mut lag_measured: Option<Instant> = None;
    loop {
        let before = report;
        let mut pending = Pending::default();
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        let mut read = 0;
        while read < config.batch {
            let message = match tokio::time::timeout_at(deadline, consumer.recv()).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(StreamError::kafka("reading events", e)),
                Ok(Ok(message)) => message,
            };
            read += 1;
            let (partition, offset) = (message.partition(), message.offset());
            if let Entry::Vacant(slot) = states.entry(partition) {
                let checkpoint = sink.load_checkpoint(partition).await?;
                slot.insert(PartitionState::resume(checkpoint));
            }
            let Some(state) = states.get_mut(&partition) else {
                continue;
            };
            if offset < state.skip_below {
                continue;
            }
            state.last_event = Instant::now();
            state.dirty = true;
            state.checkpoint.offset = offset + 1;
            let payload = message.payload().unwrap_or_default();
            match Event::parse(payload) {
                Err(invalid) => {
                    pending.dead_letters.push((
                        partition,
                        offset,
                        invalid.to_string(),
                        payload.to_vec(),
                    ));
                }
                Ok(event) => {
                    report.events += 1;
                    let windows = &mut state.checkpoint.windows;
                    if let Placed::Late { window_start_ms } = windows.add(config.window, &event) {
                        pending
                            .late
                            .push((partition, offset, event, window_start_ms));
                    }
                    for closed in windows.close_ready(config.window) {
                        pending.windows.push((partition, closed));
                    }
                }
            }
        }
        if read > 0 {
            last_event = Instant::now();
        }

        // Partitions left alone (nothing new for `idle_close`, and nothing left to read) close
        // everything they hold; one that never had an event follows the furthest partition of
        // the topic, so detection does not wait for it.
        let mut furthest = None;
        for (partition, state) in states.iter_mut() {
            if state.last_event.elapsed() < config.idle_close
                || !caught_up(&consumer, topics, *partition, state)
            {
                continue;
            }
            let windows = &mut state.checkpoint.windows;
            let until = match windows.max_event_ms {
                Some(max) => Some(max + config.window.size_ms),
                None => match furthest {
                    Some(known) => known,
                    None => *furthest.insert(sink.furthest_closed().await?),
                },
            };
            if let Some(until) = until
                && windows.closed_until_ms < Some(config.window.start_of(until))
            {
                for closed in windows.close_until(config.window, until) {
                    pending.windows.push((*partition, closed));
                }
                state.dirty = true;
            }
        }

        write(&sink, &dead_letters, topics, &mut pending, &mut report).await?;
        let mut offsets = TopicPartitionList::new();
        for (partition, state) in states.iter_mut().filter(|(_, s)| s.dirty) {
            sink.save_checkpoint(*partition, &state.checkpoint).await?;
            offsets
                .add_partition_offset(
                    &topics.events,
                    *partition,
                    Offset::Offset(state.checkpoint.offset),
                )
                .map_err(|e| StreamError::kafka("listing offsets", e))?;
            state.dirty = false;
        }
        if offsets.count() > 0 {
            consumer
                .commit(&offsets, CommitMode::Async)
                .map_err(|e| StreamError::kafka("committing offsets", e))?;
        }
        let alerts = sink
            .detect(partitions, config.window, &config.detector)
            .await?;
        report.alerts += alerts.len() as u64;
        for alert in &alerts {
            metrics.alert(&alert.rule);
            log::warn!(
                "alert {}: {} {:?} in {} = {:.3} (mean {:.3}, z {:.1})",
                alert.id(),
                alert.rule,
                alert.kind.map(|k| k.name()),
                alert.pays,
                alert.valeur,
                alert.moyenne,
                alert.z
            );
        }

        // Drop partitions this process no longer owns; take up those it was given, even
        // before their first event (so an empty partition still reports its progress).
        if let Ok(assignment) = consumer.assignment() {
            let owned: Vec<i32> = assignment
                .elements_for_topic(&topics.events)
                .iter()
                .map(|e| e.partition())
                .collect();
            states.retain(|partition, _| owned.contains(partition));
            for partition in owned {
                if let Entry::Vacant(slot) = states.entry(partition) {
                    let checkpoint = sink.load_checkpoint(partition).await?;
                    slot.insert(PartitionState::resume(checkpoint));
                }
            }
        }
        metrics.record_cycle(&before, &report);
        if lag_measured.is_none_or(|at| at.elapsed() >= LAG_EVERY) {
            measure_lag(&consumer, topics, &states, metrics);
            lag_measured = Some(Instant::now());
        }
        on_cycle(&report);
        if let Some(limit) = config.stop_when_idle
            && last_event.elapsed() >= limit
            && !states.is_empty()
            && states.iter().all(|(partition, state)| {
                state.checkpoint.windows.open.is_empty()
                    && caught_up(&consumer, topics, *partition, state)
            })
        {
            return Ok(report);
        }
    }
}

/// Whether this process has read everything the partition holds (idleness is judged on the
/// partition, not on how long this process spent writing).
fn caught_up(
    consumer: &StreamConsumer,
    topics: &Topics,
    partition: i32,
    state: &PartitionState,
) -> bool {
    match consumer.fetch_watermarks(&topics.events, partition, Duration::from_secs(5)) {
        Ok((_, high)) => state.checkpoint.offset >= high,
        Err(e) => {
            log::warn!("cannot read the end of partition {partition}: {e}");
            false
        }
    }
}

/// Sets the gauges of the partitions this process owns from the broker's watermarks.
fn measure_lag(
    consumer: &StreamConsumer,
    topics: &Topics,
    states: &HashMap<i32, PartitionState>,
    metrics: &StreamMetrics,
) {
    let partitions: Vec<_> = states
        .iter()
        .map(|(partition, state)| {
            let watermarks = consumer
                .fetch_watermarks(&topics.events, *partition, Duration::from_secs(5))
                .map_err(|e| log::warn!("cannot read the end of partition {partition}: {e}"))
                .ok();
            (*partition, watermarks, state.checkpoint.offset)
        })
        .collect();
    metrics.set_partitions(&partitions);
}

/// Dead letters (acknowledged by Kafka), closed windows and late events.
async fn write(
    sink: &Sink,
    producer: &FutureProducer,
    topics: &Topics,
    pending: &mut Pending,
    report: &mut ProcessReport,
) -> Result<(), StreamError> {
    let deliveries = pending
        .dead_letters
        .iter()
        .map(|(partition, offset, reason, payload)| {
            let body = json!({
                "reason": reason,
                "partition": partition,
                "offset": offset,
                "payload": String::from_utf8_lossy(payload),
            })
            .to_string();
            let key = format!("{partition}-{offset}");
            async move {
                producer
                    .send(
                        FutureRecord::to(&topics.dead_letters)
                            .key(&key)
                            .payload(&body),
                        Duration::from_secs(30),
                    )
                    .await
                    .map_err(|(e, _)| StreamError::kafka("sending a dead letter", e))
            }
        });
    for delivered in join_all(deliveries).await {
        delivered?;
        report.dead_letters += 1;
    }
    let mut by_partition: HashMap<i32, Vec<ClosedWindow>> = HashMap::new();
    for (partition, window) in pending.windows.drain(..) {
        by_partition.entry(partition).or_default().push(window);
    }
    for (partition, windows) in &by_partition {
        sink.write_partition_windows(*partition, windows).await?;
        report.windows_written += windows.len() as u64;
    }
    sink.write_late(&pending.late).await?;
    report.late += pending.late.len() as u64;
    Ok(())
}
