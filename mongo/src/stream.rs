//! What `lake stream process` writes to MongoDB: its collections, and the values of its
//! documents' `type` and `rule` fields, for the processor, the API's `/temps-reel/*` and the
//! stream benchmark.

/// A closed window of one Kafka partition: its keys' tallies.
pub const PARTITIONS: &str = "stream_partitions";
/// Per partition: the next offset, the windows' state and how far windows are closed.
pub const CHECKPOINTS: &str = "stream_checkpoints";
/// Events that arrived after their window closed.
pub const LATE: &str = "stream_retards";
/// Complete windows (all partitions summed): counts and amounts per event type and country.
pub const WINDOWS: &str = "stream_fenetres";
/// Anomalies detected on closed windows.
pub const ALERTS: &str = "stream_alertes";
/// Per topic: the detector's baselines and the window detection has reached.
pub const DETECTOR: &str = "stream_detecteur";

/// The event types, as the events and the windows name them.
pub const EVENT_TYPES: [&str; 4] = ["page_vue", "ajout_panier", "achat", "panier_abandonne"];
/// The detector's rules, as the alerts name them.
pub const RULES: [&str; 3] = ["volume", "part_abandon", "panier_moyen"];
/// The events topic the processor reads by default.
pub const DEFAULT_TOPIC: &str = "lake.events";
