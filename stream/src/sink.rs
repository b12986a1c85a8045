//! What the processor keeps in MongoDB. Every document has an `_id` the data decides, so writing
//! the same thing twice (a replay after a crash) changes nothing: state that moves on
//! (checkpoints, a partition's windows, the baselines) is replaced, and facts that never change
//! once decided (window metrics, alerts, late events) are inserted in one command per batch,
//! a copy already there being skipped.
//!
//! | collection | one document per | `_id` |
//! |---|---|---|
//! | `stream_partitions` | closed window of one partition: its keys' tallies | `topic|window_start_ms|partition` |
//! | `stream_checkpoints` | partition: next offset, windows state, `closed_until_ms` | `topic|partition` |
//! | `stream_retards` | late event (its window was closed) | `topic|event_id` |
//! | `stream_fenetres` | complete window and key (all partitions summed): `nb`, `montant` | `topic|window_start_ms|type|pays` |
//! | `stream_alertes` | alert | `topic|window_start_ms|rule|type|pays` |
//! | `stream_detecteur` | topic: baselines, and the window detection has reached | `topic` |

use futures::TryStreamExt;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::ReplaceOptions;
use mongodb::{Collection, Database};

use crate::StreamError;
use crate::detect::{Alert, Detector, DetectorConfig};
use crate::event::{Event, format_time};
use crate::window::{ClosedWindow, KeyTally, PartitionWindows, WindowConfig};

use lake_mongo::errors::{is_duplicate_key, only_duplicates};
pub use lake_mongo::stream::{ALERTS, CHECKPOINTS, DETECTOR, LATE, PARTITIONS, WINDOWS};

/// A partition's saved state: replay starts at `offset` with `windows`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub offset: i64,
    pub windows: PartitionWindows,
}

pub struct Sink {
    db: Database,
    topic: String,
}

fn failed(doing: &str) -> impl Fn(mongodb::error::Error) -> StreamError + '_ {
    move |e| StreamError::Mongo {
        doing: doing.to_string(),
        reason: e.to_string(),
    }
}

fn tallies_to_bson(keys: &[KeyTally]) -> Result<Bson, StreamError> {
    mongodb::bson::to_bson(keys).map_err(|e| StreamError::Mongo {
        doing: "encoding window tallies".into(),
        reason: e.to_string(),
    })
}

impl Sink {
    pub fn new(db: Database, topic: &str) -> Self {
        Self {
            db,
            topic: topic.to_string(),
        }
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        self.db.collection(name)
    }

    async fn upsert(
        &self,
        collection: &str,
        id: String,
        document: Document,
    ) -> Result<(), StreamError> {
        let mut document = document;
        document.insert("_id", id.clone());
        self.collection(collection)
            .replace_one(doc! { "_id": id }, document)
            .with_options(ReplaceOptions::builder().upsert(true).build())
            .await
            .map_err(failed(collection))?;
        Ok(())
    }

    /// The indexes of the API's listings (newest window first, per topic) and of the topic's
    /// checkpoints. Creating an index that exists is a no-op.
    pub async fn ensure_indexes(&self) -> Result<(), StreamError> {
        for (collection, keys) in [
            (WINDOWS, doc! { "topic": 1, "window_start_ms": -1 }),
            (ALERTS, doc! { "topic": 1, "window_start_ms": -1 }),
            (CHECKPOINTS, doc! { "topic": 1 }),
        ] {
            let index = mongodb::IndexModel::builder().keys(keys).build();
            self.collection(collection)
                .create_index(index)
                .await
                .map_err(failed(collection))?;
        }
        Ok(())
    }

    /// Inserts `documents` (each with its `_id`) in one command; those already there are kept.
    async fn insert_new(
        &self,
        collection: &str,
        documents: Vec<Document>,
    ) -> Result<(), StreamError> {
        if documents.is_empty() {
            return Ok(());
        }
        match self
            .collection(collection)
            .insert_many(documents)
            .ordered(false)
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if only_duplicates(&e) => Ok(()),
            Err(e) => Err(failed(collection)(e)),
        }
    }

    /// Closed windows of one partition.
    pub async fn write_partition_windows(
        &self,
        partition: i32,
        windows: &[ClosedWindow],
    ) -> Result<(), StreamError> {
        for window in windows {
            let id = format!("{}|{}|{partition}", self.topic, window.start_ms);
            let document = doc! {
                "topic": &self.topic,
                "partition": partition,
                "window_start_ms": window.start_ms,
                "keys": tallies_to_bson(&window.keys)?,
            };
            self.upsert(PARTITIONS, id, document).await?;
        }
        Ok(())
    }

    /// Late events: `(partition, offset, event, start of its closed window)`.
    pub async fn write_late(&self, late: &[(i32, i64, Event, i64)]) -> Result<(), StreamError> {
        let documents = late
            .iter()
            .map(|(partition, offset, event, window_start_ms)| {
                doc! {
                    "_id": format!("{}|{}", self.topic, event.event_id),
                    "topic": &self.topic,
                    "partition": partition,
                    "offset": offset,
                    "event_time": format_time(event.event_time_ms),
                    "window_start_ms": window_start_ms,
                    "type": event.kind.name(),
                    "pays": &event.pays,
                }
            })
            .collect();
        self.insert_new(LATE, documents).await
    }

    pub async fn load_checkpoint(&self, partition: i32) -> Result<Option<Checkpoint>, StreamError> {
        let id = format!("{}|{partition}", self.topic);
        let found = self
            .collection(CHECKPOINTS)
            .find_one(doc! { "_id": &id })
            .await
            .map_err(failed(CHECKPOINTS))?;
        let Some(found) = found else { return Ok(None) };
        let corrupt = |what: &str| StreamError::Mongo {
            doing: format!("reading checkpoint {id}"),
            reason: what.to_string(),
        };
        let offset = found
            .get_i64("offset")
            .map_err(|e| corrupt(&e.to_string()))?;
        let state = found
            .get_str("state")
            .map_err(|e| corrupt(&e.to_string()))?;
        let windows = serde_json::from_str(state).map_err(|e| corrupt(&e.to_string()))?;
        Ok(Some(Checkpoint { offset, windows }))
    }

    pub async fn save_checkpoint(
        &self,
        partition: i32,
        checkpoint: &Checkpoint,
    ) -> Result<(), StreamError> {
        let id = format!("{}|{partition}", self.topic);
        let state = serde_json::to_string(&checkpoint.windows).map_err(|e| StreamError::Mongo {
            doing: "encoding a checkpoint".into(),
            reason: e.to_string(),
        })?;
        let closed = checkpoint
            .windows
            .closed_until_ms
            .map_or(Bson::Null, Bson::Int64);
        let document = doc! {
            "topic": &self.topic,
            "partition": partition,
            "offset": checkpoint.offset,
            "closed_until_ms": closed,
            "first_window_ms": checkpoint.windows.first_window_ms.map_or(Bson::Null, Bson::Int64),
            "state": state,
        };
        self.upsert(CHECKPOINTS, id, document).await
    }

    /// Where every partition of the topic is: `(first window, closed until)` per partition
    /// that has a checkpoint.
    async fn progress(&self) -> Result<Vec<(Option<i64>, Option<i64>)>, StreamError> {
        let documents: Vec<Document> = self
            .collection(CHECKPOINTS)
            .find(doc! { "topic": &self.topic })
            .await
            .map_err(failed(CHECKPOINTS))?
            .try_collect()
            .await
            .map_err(failed(CHECKPOINTS))?;
        Ok(documents
            .iter()
            .map(|d| {
                (
                    d.get_i64("first_window_ms").ok(),
                    d.get_i64("closed_until_ms").ok(),
                )
            })
            .collect())
    }

    /// The largest `closed_until_ms` of any partition (an idle, empty partition follows it).
    pub async fn furthest_closed(&self) -> Result<Option<i64>, StreamError> {
        Ok(self
            .progress()
            .await?
            .into_iter()
            .filter_map(|(_, c)| c)
            .max())
    }

    /// Runs the detectors over every window all `partitions` have closed and detection has not
    /// seen yet: sums the partitions' tallies, writes the window metrics and alerts, and saves
    /// the baselines. Safe to run from several processors at once: each window's results depend
    /// only on the data, and the baselines move forward only from the state they were read in.
    /// Returns the alerts raised.
    pub async fn detect(
        &self,
        partitions: i32,
        window: WindowConfig,
        config: &DetectorConfig,
    ) -> Result<Vec<Alert>, StreamError> {
        let progress = self.progress().await?;
        if progress.len() < partitions as usize {
            return Ok(Vec::new());
        }
        let Some(complete_until) = progress
            .iter()
            .map(|(_, closed)| *closed)
            .collect::<Option<Vec<i64>>>()
            .and_then(|c| c.into_iter().min())
        else {
            return Ok(Vec::new());
        };
        let saved = self
            .collection(DETECTOR)
            .find_one(doc! { "_id": &self.topic })
            .await
            .map_err(failed(DETECTOR))?;
        let (mut next, mut detector) = match &saved {
            Some(saved) => {
                let state = saved.get_str("state").unwrap_or("{}");
                let detector: Detector = serde_json::from_str(state).unwrap_or_default();
                (saved.get_i64("through_ms").ok(), detector)
            }
            None => (None, Detector::default()),
        };
        if next.is_none() {
            next = progress.iter().filter_map(|(first, _)| *first).min();
        }
        let Some(mut start) = next else {
            return Ok(Vec::new());
        };
        let mut stored = saved_through(&saved);
        let mut raised = Vec::new();
        while start + window.size_ms <= complete_until {
            let keys = self.window_totals(partitions, start).await?;
            let alerts = detector.observe(config, start, &keys);
            let written_at = format_time(chrono::Utc::now().timestamp_millis());
            let metrics = keys
                .iter()
                .map(|key| {
                    doc! {
                        "_id": format!("{}|{start}|{}|{}", self.topic, key.kind.name(), key.pays),
                        "topic": &self.topic,
                        "window_start": format_time(start),
                        "window_start_ms": start,
                        "window_end_ms": start + window.size_ms,
                        "type": key.kind.name(),
                        "pays": &key.pays,
                        "nb": key.tally.nb as i64,
                        "montant": key.tally.montant_cents as f64 / 100.0,
                        "written_at": &written_at,
                    }
                })
                .collect();
            self.insert_new(WINDOWS, metrics).await?;
            let found = alerts
                .iter()
                .map(|alert| {
                    doc! {
                        "_id": format!("{}|{}", self.topic, alert.id()),
                        "topic": &self.topic,
                        "window_start": format_time(start),
                        "window_start_ms": start,
                        "rule": &alert.rule,
                        "type": alert.kind.map(|k| k.name()),
                        "pays": &alert.pays,
                        "valeur": alert.valeur,
                        "moyenne": alert.moyenne,
                        "z": alert.z,
                        "detected_at": &written_at,
                    }
                })
                .collect();
            self.insert_new(ALERTS, found).await?;
            raised.extend(alerts);
            start += window.size_ms;
            if !self.save_detector(stored, start, &detector).await? {
                // Another processor moved the baselines on first: it carries on.
                break;
            }
            stored = Some(start);
        }
        Ok(raised)
    }

    /// The tallies of one window, summed over partitions.
    async fn window_totals(
        &self,
        partitions: i32,
        start: i64,
    ) -> Result<Vec<KeyTally>, StreamError> {
        let mut totals: Vec<KeyTally> = Vec::new();
        for partition in 0..partitions {
            let id = format!("{}|{start}|{partition}", self.topic);
            let Some(found) = self
                .collection(PARTITIONS)
                .find_one(doc! { "_id": &id })
                .await
                .map_err(failed(PARTITIONS))?
            else {
                continue;
            };
            let keys: Vec<KeyTally> = found
                .get("keys")
                .cloned()
                .map(mongodb::bson::from_bson)
                .transpose()
                .map_err(|e| StreamError::Mongo {
                    doing: format!("reading {id}"),
                    reason: e.to_string(),
                })?
                .unwrap_or_default();
            for key in keys {
                match totals
                    .iter_mut()
                    .find(|t| t.kind == key.kind && t.pays == key.pays)
                {
                    Some(total) => total.tally.add(key.tally),
                    None => totals.push(key),
                }
            }
        }
        totals.sort_by(|a, b| (a.kind, &a.pays).cmp(&(b.kind, &b.pays)));
        Ok(totals)
    }

    /// Saves the baselines as of `through_ms`, only if they are still where this run read them
    /// (`previous`). `false` when another processor got there first.
    async fn save_detector(
        &self,
        previous: Option<i64>,
        through_ms: i64,
        detector: &Detector,
    ) -> Result<bool, StreamError> {
        let state = serde_json::to_string(detector).map_err(|e| StreamError::Mongo {
            doing: "encoding the detector".into(),
            reason: e.to_string(),
        })?;
        let document = doc! { "_id": &self.topic, "through_ms": through_ms, "state": state };
        let collection = self.collection(DETECTOR);
        match previous {
            Some(previous) => {
                let result = collection
                    .replace_one(
                        doc! { "_id": &self.topic, "through_ms": previous },
                        document,
                    )
                    .await
                    .map_err(failed(DETECTOR))?;
                Ok(result.matched_count == 1)
            }
            None => match collection.insert_one(document).await {
                Ok(_) => Ok(true),
                Err(e) if is_duplicate_key(&e) => Ok(false),
                Err(e) => Err(failed(DETECTOR)(e)),
            },
        }
    }
}

fn saved_through(saved: &Option<Document>) -> Option<i64> {
    saved.as_ref().and_then(|s| s.get_i64("through_ms").ok())
}
