//! Prometheus metrics of the stream processor, served as text at `/metrics` when
//! `lake stream process --metrics-bind` is given: events read, late events, dead letters,
//! partition windows written and alerts (counters), and for each partition this process owns
//! the end of the partition, the next offset to read and the lag between them (gauges). Each
//! processor has its own registry, so processors started side by side in one process (tests,
//! benches) count apart.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};

use crate::process::ProcessReport;

/// One owned partition as measured: its number, its low and high watermarks (`None` when the
/// broker did not answer), and the next offset this process will read.
pub type PartitionProgress = (i32, Option<(i64, i64)>, i64);

#[derive(Debug)]
pub struct StreamMetrics {
    registry: Registry,
    events: IntCounter,
    late: IntCounter,
    dead_letters: IntCounter,
    windows: IntCounter,
    alerts: IntCounterVec,
    end_offset: IntGaugeVec,
    next_offset: IntGaugeVec,
    lag: IntGaugeVec,
    owned: IntGauge,
    /// Partitions whose gauges are shown (dropped when this process loses them).
    shown: Mutex<BTreeSet<i32>>,
}

impl StreamMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str| -> Result<IntCounter, prometheus::Error> {
            let counter = IntCounter::new(name, help)?;
            registry.register(Box::new(counter.clone()))?;
            Ok(counter)
        };
        let by_partition = |name: &str, help: &str| -> Result<IntGaugeVec, prometheus::Error> {
            let gauge = IntGaugeVec::new(Opts::new(name, help), &["partition"])?;
            registry.register(Box::new(gauge.clone()))?;
            Ok(gauge)
        };
        let events = counter(
            "lake_stream_events_total",
            "Valid events read (late ones included, dead letters not)",
        )?;
        let late = counter(
            "lake_stream_late_events_total",
            "Events whose window was already closed, kept apart",
        )?;
        let dead_letters = counter(
            "lake_stream_dead_letters_total",
            "Messages refused by the event decoder and sent to the dead-letter topic",
        )?;
        let windows = counter(
            "lake_stream_windows_written_total",
            "Closed windows of one partition written to MongoDB",
        )?;
        let alerts = IntCounterVec::new(
            Opts::new(
                "lake_stream_alerts_total",
                "Alerts raised, by rule (volume, part_abandon, panier_moyen)",
            ),
            &["rule"],
        )?;
        registry.register(Box::new(alerts.clone()))?;
        let end_offset = by_partition(
            "lake_stream_partition_end_offset",
            "Offset after the last message of the partition (its high watermark)",
        )?;
        let next_offset = by_partition(
            "lake_stream_partition_next_offset",
            "Next offset of the partition this process will read (its checkpoint)",
        )?;
        let lag = by_partition(
            "lake_stream_partition_lag",
            "Messages of the partition not yet processed",
        )?;
        let owned = IntGauge::new(
            "lake_stream_partitions_owned",
            "Partitions of the events topic this process owns",
        )?;
        registry.register(Box::new(owned.clone()))?;
        Ok(Self {
            registry,
            events,
            late,
            dead_letters,
            windows,
            alerts,
            end_offset,
            next_offset,
            lag,
            owned,
            shown: Mutex::new(BTreeSet::new()),
        })
    }

    /// Counts what one cycle added to the report (`before` → `after`).
    pub fn record_cycle(&self, before: &ProcessReport, after: &ProcessReport) {
        self.events
            .inc_by(after.events.saturating_sub(before.events));
        self.late.inc_by(after.late.saturating_sub(before.late));
        self.dead_letters
            .inc_by(after.dead_letters.saturating_sub(before.dead_letters));
        self.windows
            .inc_by(after.windows_written.saturating_sub(before.windows_written));
    }

    pub fn alert(&self, rule: &str) {
        self.alerts.with_label_values(&[rule]).inc();
    }

    /// The partitions this process owns now (a partition whose watermarks are unknown keeps its
    /// last end and lag). Partitions no longer owned lose their gauges.
    pub fn set_partitions(&self, partitions: &[PartitionProgress]) {
        let mut shown = self
            .shown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let owned: BTreeSet<i32> = partitions.iter().map(|(p, _, _)| *p).collect();
        for gone in shown.difference(&owned) {
            let label = [gone.to_string()];
            for gauge in [&self.end_offset, &self.next_offset, &self.lag] {
                // Absent already (never measured): nothing to remove.
                let _ = gauge.remove_label_values(&label);
            }
        }
        for (partition, watermarks, next) in partitions {
            let label = [partition.to_string()];
            self.next_offset.with_label_values(&label).set(*next);
            if let Some((low, high)) = watermarks {
                self.end_offset.with_label_values(&label).set(*high);
                self.lag
                    .with_label_values(&label)
                    .set(lag(*low, *high, *next));
            }
        }
        self.owned.set(owned.len() as i64);
        *shown = owned;
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        // Encoding gathered families into a Vec cannot fail on I/O; a family the encoder
        // refuses would be a bug in this module's names.
        if let Err(e) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buffer)
        {
            log::warn!("cannot encode the stream metrics: {e}");
        }
        String::from_utf8_lossy(&buffer).into_owned()
    }
}

/// Messages of a partition still to process: from the next offset (or the oldest message kept,
/// if retention removed those before it) to the end.
pub fn lag(low: i64, high: i64, next: i64) -> i64 {
    (high - next.max(low)).max(0)
}

/// Serves `metrics` at `http://{addr}/metrics` until the task is dropped; the address bound
/// (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    metrics: Arc<StreamMetrics>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = Router::new().route(
        "/metrics",
        get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4")],
                    metrics.render(),
                )
            }
        }),
    );
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            log::warn!("the metrics server stopped: {e}");
        }
    });
    Ok((bound, task))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_counts_from_the_next_offset_or_the_oldest_message_kept() {
        assert_eq!(lag(0, 9, 9), 0);
        assert_eq!(lag(0, 9, 4), 5);
        // Retention removed offsets 0..6: only 6, 7, 8 are left to read.
        assert_eq!(lag(6, 9, 0), 3);
        // A checkpoint ahead of what the broker reports (a stale answer) is no negative lag.
        assert_eq!(lag(0, 9, 12), 0);
    }

    #[test]
    fn a_partition_given_away_loses_its_gauges() {
        let metrics = StreamMetrics::new().expect("metrics");
        metrics.set_partitions(&[(0, Some((0, 10)), 4), (1, Some((0, 3)), 3)]);
        let text = metrics.render();
        assert!(
            text.contains("lake_stream_partition_lag{partition=\"0\"} 6"),
            "{text}"
        );
        assert!(
            text.contains("lake_stream_partition_lag{partition=\"1\"} 0"),
            "{text}"
        );
        assert!(text.contains("lake_stream_partitions_owned 2"), "{text}");
        metrics.set_partitions(&[(1, None, 3)]);
        let text = metrics.render();
        assert!(!text.contains("partition=\"0\""), "{text}");
        assert!(
            text.contains("lake_stream_partition_lag{partition=\"1\"} 0"),
            "{text}"
        );
        assert!(text.contains("lake_stream_partitions_owned 1"), "{text}");
    }

    #[test]
    fn a_cycle_adds_what_the_report_gained() {
        let metrics = StreamMetrics::new().expect("metrics");
        let before = ProcessReport {
            events: 10,
            late: 1,
            dead_letters: 2,
            windows_written: 3,
            alerts: 0,
        };
        let after = ProcessReport {
            events: 15,
            late: 1,
            dead_letters: 4,
            windows_written: 7,
            alerts: 0,
        };
        metrics.record_cycle(&ProcessReport::default(), &before);
        metrics.record_cycle(&before, &after);
        metrics.alert("volume");
        let text = metrics.render();
        for line in [
            "lake_stream_events_total 15",
            "lake_stream_late_events_total 1",
            "lake_stream_dead_letters_total 4",
            "lake_stream_windows_written_total 7",
            "lake_stream_alerts_total{rule=\"volume\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
}
