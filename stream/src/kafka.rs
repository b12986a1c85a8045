//! Kafka plumbing: topic set-up and the event producer.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};

use crate::StreamError;
use crate::event::Event;

/// How long a metadata or admin request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The topics of one stream.
#[derive(Debug, Clone)]
pub struct Topics {
    pub brokers: String,
    /// The events.
    pub events: String,
    /// Refused events, each with its reason.
    pub dead_letters: String,
}

impl Topics {
    pub fn new(brokers: &str, events: &str) -> Self {
        Self {
            brokers: brokers.to_string(),
            events: events.to_string(),
            dead_letters: format!("{events}.dead-letter"),
        }
    }

    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", &self.brokers);
        config
    }

    /// Creates the events topic (`partitions`, `retention`) and the dead-letter topic (one
    /// partition, same retention). Existing topics are kept as they are; the answer says which
    /// were created.
    pub async fn create(
        &self,
        partitions: i32,
        retention: Duration,
    ) -> Result<Vec<(String, bool)>, StreamError> {
        let admin: AdminClient<DefaultClientContext> = self
            .client_config()
            .create()
            .map_err(|e| StreamError::kafka("connecting the admin client", e))?;
        let retention_ms = retention.as_millis().to_string();
        let topics = [
            NewTopic::new(&self.events, partitions, TopicReplication::Fixed(1))
                .set("retention.ms", &retention_ms),
            NewTopic::new(&self.dead_letters, 1, TopicReplication::Fixed(1))
                .set("retention.ms", &retention_ms),
        ];
        let options = AdminOptions::new().operation_timeout(Some(REQUEST_TIMEOUT));
        let results = admin
            .create_topics(&topics, &options)
            .await
            .map_err(|e| StreamError::kafka("creating topics", e))?;
        let mut created = Vec::new();
        for result in results {
            match result {
                Ok(topic) => created.push((topic, true)),
                Err((topic, RDKafkaErrorCode::TopicAlreadyExists)) => created.push((topic, false)),
                Err((topic, code)) => {
                    return Err(StreamError::Kafka {
                        doing: format!("creating topic {topic}"),
                        reason: code.to_string(),
                    });
                }
            }
        }
        Ok(created)
    }

    /// Partitions of the events topic (an error if it does not exist).
    pub fn partitions(&self) -> Result<i32, StreamError> {
        let consumer: BaseConsumer = self
            .client_config()
            .create()
            .map_err(|e| StreamError::kafka("connecting", e))?;
        let metadata = consumer
            .fetch_metadata(Some(&self.events), REQUEST_TIMEOUT)
            .map_err(|e| StreamError::kafka("reading topic metadata", e))?;
        let count = metadata
            .topics()
            .iter()
            .find(|t| t.name() == self.events && t.error().is_none())
            .map_or(0, |t| t.partitions().len());
        if count == 0 {
            return Err(StreamError::Kafka {
                doing: format!("reading topic {}", self.events),
                reason: "it does not exist: run `lake stream setup` first".into(),
            });
        }
        Ok(count as i32)
    }
}

/// Counts deliveries the broker acknowledged or refused.
#[derive(Default, Clone)]
pub struct DeliveryCounts {
    pub delivered: Arc<AtomicU64>,
    pub failed: Arc<AtomicU64>,
}

impl ClientContext for DeliveryCounts {}

impl ProducerContext for DeliveryCounts {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err((e, _)) => {
                log::warn!("an event was not delivered: {e}");
                self.failed.fetch_add(1, Ordering::Relaxed)
            }
        };
    }
}

/// How events are paced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pacing {
    /// Each event is sent when the wall clock reaches its event time.
    Wall,
    /// As fast as the producer goes (event times are simulated).
    Fastest,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProduceReport {
    pub sent: u64,
    pub failed: u64,
    pub seconds: f64,
}

/// Sends `events` to the events topic, keyed by session (a session stays in one partition, in
/// order). Each sent event is written to `log` as CSV (`event_id,event_time_ms,type,pays,
/// montant_cents`): the ground truth the tests count windows from. `progress` is called every
/// 10 000 events with the count so far.
pub fn produce(
    topics: &Topics,
    events: impl Iterator<Item = Event>,
    pacing: Pacing,
    mut log: Option<&mut dyn Write>,
    mut progress: impl FnMut(u64),
) -> Result<ProduceReport, StreamError> {
    let counts = DeliveryCounts::default();
    let producer: ThreadedProducer<DeliveryCounts> = topics
        .client_config()
        .set("linger.ms", "5")
        .set("compression.type", "lz4")
        .set("queue.buffering.max.messages", "200000")
        .create_with_context(counts.clone())
        .map_err(|e| StreamError::kafka("connecting the producer", e))?;
    let started = Instant::now();
    let wall_start_ms = chrono::Utc::now().timestamp_millis();
    let mut first_event_ms = None;
    let mut sent = 0u64;
    if let Some(log) = log.as_deref_mut() {
        writeln!(log, "event_id,event_time_ms,type,pays,montant_cents")
            .map_err(StreamError::log)?;
    }
    for event in events {
        if pacing == Pacing::Wall {
            let first = *first_event_ms.get_or_insert(event.event_time_ms);
            let due = wall_start_ms + (event.event_time_ms - first);
            let wait = due - chrono::Utc::now().timestamp_millis();
            if wait > 0 {
                std::thread::sleep(Duration::from_millis(wait as u64));
            }
        }
        let payload = event.to_json();
        let mut record = BaseRecord::to(&topics.events)
            .key(&event.session_id)
            .payload(&payload);
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                    record = back;
                    // The background thread drains the queue; wait for room.
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err((e, _)) => return Err(StreamError::kafka("sending an event", e)),
            }
        }
        if let Some(log) = log.as_deref_mut() {
            writeln!(
                log,
                "{},{},{},{},{}",
                event.event_id,
                event.event_time_ms,
                event.kind.name(),
                event.pays,
                event.montant_cents.map_or(String::new(), |c| c.to_string())
            )
            .map_err(StreamError::log)?;
        }
        sent += 1;
        if sent.is_multiple_of(10_000) {
            progress(sent);
        }
    }
    producer
        .flush(Duration::from_secs(60))
        .map_err(|e| StreamError::kafka("flushing the producer", e))?;
    Ok(ProduceReport {
        sent,
        failed: counts.failed.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}
