//! Real time: simulated e-commerce events on Kafka (`lake stream produce`) and a consumer-group
//! processor (`lake stream process`) that counts them in event-time windows per (type, pays),
//! detects anomalies, and writes window metrics and alerts to MongoDB.
//!
//! - [`event`]: the versioned event schema, validated on read;
//! - [`simulate`]: shopper sessions as a state machine, with injected scenarios;
//! - [`window`]: one partition's windows and watermark (its checkpointed state);
//! - [`detect`]: EWMA baselines and z-score rules over complete windows;
//! - [`kafka`]: topics and the producer; [`process`]: the consumer-group processor;
//! - [`sink`]: what is kept in MongoDB, and detection over complete windows;
//! - [`metrics`]: the processor's Prometheus metrics and their `/metrics` server.

pub mod detect;
pub mod event;
pub mod kafka;
pub mod metrics;
pub mod process;
pub mod simulate;
pub mod sink;
pub mod window;

#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("Kafka failed while {doing}: {reason}")]
    Kafka { doing: String, reason: String },
    #[error("MongoDB failed while {doing}: {reason}")]
    Mongo { doing: String, reason: String },
    #[error("cannot write the event log: {0}")]
    Log(std::io::Error),
}

impl StreamError {
    pub fn kafka(doing: &str, e: rdkafka::error::KafkaError) -> Self {
        Self::Kafka {
            doing: doing.to_string(),
            reason: e.to_string(),
        }
    }

    pub fn log(e: std::io::Error) -> Self {
        Self::Log(e)
    }
}
