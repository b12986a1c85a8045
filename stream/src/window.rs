//! Event-time tumbling windows of one Kafka partition, keyed by (type, pays).
//!
//! The partition's watermark is its largest event time minus the allowed lateness. A window
//! `[start, start + size)` closes once the watermark reaches its end; an event whose window is
//! already closed is *late*: it is reported, never added to a written window. Everything here is
//! decided by the partition's own events, in offset order, so replaying the partition from a
//! checkpoint of this state decides exactly the same way: that is what makes the processor's
//! writes idempotent.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    pub size_ms: i64,
    pub lateness_ms: i64,
}

impl WindowConfig {
    /// Start of the window holding `time_ms`.
    pub fn start_of(&self, time_ms: i64) -> i64 {
        time_ms.div_euclid(self.size_ms) * self.size_ms
    }
}

/// Counts of one key in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub nb: u64,
    /// Sum of purchase amounts, in cents.
    pub montant_cents: i64,
}

impl Tally {
    pub fn add(&mut self, other: Tally) {
        self.nb += other.nb;
        self.montant_cents += other.montant_cents;
    }
}

/// One key's tally in a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTally {
    #[serde(rename = "type")]
    pub kind: EventType,
    pub pays: String,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A window of this partition, closed: its keys' tallies (possibly none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedWindow {
    pub start_ms: i64,
    pub keys: Vec<KeyTally>,
}

/// Where an event went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    Counted,
    /// Its window was already closed.
    Late {
        window_start_ms: i64,
    },
}

/// The windows of one partition. Serialisable: it is the checkpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PartitionWindows {
    /// Largest event time read.
    pub max_event_ms: Option<i64>,
    /// Start of the first window this partition counted an event in.
    pub first_window_ms: Option<i64>,
    /// Every window ending at or before this is closed.
    pub closed_until_ms: Option<i64>,
    /// Open windows by start, each with its keys.
    pub open: BTreeMap<i64, Vec<KeyTally>>,
}

impl PartitionWindows {
    pub fn add(&mut self, config: WindowConfig, event: &Event) -> Placed {
        let start = config.start_of(event.event_time_ms);
        if self
            .closed_until_ms
            .is_some_and(|closed| start + config.size_ms <= closed)
        {
            return Placed::Late {
                window_start_ms: start,
            };
        }
        self.max_event_ms = Some(
            self.max_event_ms
                .map_or(event.event_time_ms, |m| m.max(event.event_time_ms)),
        );
        self.first_window_ms = Some(self.first_window_ms.map_or(start, |f| f.min(start)));
        let keys = self.open.entry(start).or_default();
        let tally = Tally {
            nb: 1,
            montant_cents: event.montant_cents.unwrap_or(0),
        };
        match keys
            .iter_mut()
            .find(|k| k.kind == event.kind && k.pays == event.pays)
        {
            Some(key) => key.tally.add(tally),
            None => keys.push(KeyTally {
                kind: event.kind,
                pays: event.pays.clone(),
                tally,
            }),
        }
        Placed::Counted
    }

    /// The watermark: the largest event time less the allowed lateness.
    pub fn watermark(&self, config: WindowConfig) -> Option<i64> {
        self.max_event_ms.map(|m| m - config.lateness_ms)
    }

    /// Closes the windows the watermark has passed.
    pub fn close_ready(&mut self, config: WindowConfig) -> Vec<ClosedWindow> {
        match self.watermark(config) {
            Some(watermark) => self.close_until(config, watermark),
            None => Vec::new(),
        }
    }

    /// Closes every window that ends at or before `time_ms` (a partition left idle closes up to
    /// its largest event time). Returns the closed windows that had events, oldest first; the
    /// empty ones in between are closed too (`closed_until_ms` says so).
    pub fn close_until(&mut self, config: WindowConfig, time_ms: i64) -> Vec<ClosedWindow> {
        let boundary = config.start_of(time_ms);
        if self.closed_until_ms.is_some_and(|c| c >= boundary) {
            return Vec::new();
        }
        let still_open = self.open.split_off(&boundary);
        let closed = std::mem::replace(&mut self.open, still_open);
        self.closed_until_ms = Some(boundary);
        closed
            .into_iter()
            .map(|(start_ms, mut keys)| {
                keys.sort_by(|a, b| (a.kind, &a.pays).cmp(&(b.kind, &b.pays)));
                ClosedWindow { start_ms, keys }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: WindowConfig = WindowConfig {
        size_ms: 10_000,
        lateness_ms: 5_000,
    };

    fn event(time_ms: i64, kind: EventType, pays: &str) -> Event {
        Event {
            event_id: format!("e{time_ms}"),
            event_time_ms: time_ms,
            session_id: "s".into(),
            id_client: None,
            kind,
            produit: None,
            montant_cents: (kind == EventType::Achat).then_some(1_000),
            pays: pays.into(),
        }
    }

    #[test]
    fn windows_close_when_the_watermark_passes_their_end() {
        let mut w = PartitionWindows::default();
        for t in [1_000, 2_000, 9_999] {
            assert_eq!(
                w.add(CONFIG, &event(t, EventType::PageVue, "France")),
                Placed::Counted
            );
        }
        w.add(CONFIG, &event(3_000, EventType::Achat, "France"));
        w.add(CONFIG, &event(12_000, EventType::PageVue, "Belgique"));
        // Watermark 7 000: nothing closes.
        assert!(w.close_ready(CONFIG).is_empty());
        // Out of order but inside the lateness: still counted in [0, 10 000).
        assert_eq!(
            w.add(CONFIG, &event(4_000, EventType::PageVue, "France")),
            Placed::Counted
        );
        w.add(CONFIG, &event(15_000, EventType::PageVue, "France"));
        // Watermark 10 000: [0, 10 000) closes with 4 views and one purchase of 10.00.
        let closed = w.close_ready(CONFIG);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].start_ms, 0);
        assert_eq!(
            closed[0].keys,
            vec![
                KeyTally {
                    kind: EventType::PageVue,
                    pays: "France".into(),
                    tally: Tally {
                        nb: 4,
                        montant_cents: 0
                    }
                },
                KeyTally {
                    kind: EventType::Achat,
                    pays: "France".into(),
                    tally: Tally {
                        nb: 1,
                        montant_cents: 1_000
                    }
                },
            ]
        );
        // Too late now: reported, not counted; the open window is untouched.
        assert_eq!(
            w.add(CONFIG, &event(8_000, EventType::PageVue, "France")),
            Placed::Late { window_start_ms: 0 }
        );
        assert_eq!(w.open.len(), 1);
    }

    #[test]
    fn an_idle_close_covers_empty_windows_and_the_state_round_trips() {
        let mut w = PartitionWindows::default();
        w.add(CONFIG, &event(41_000, EventType::PanierAbandonne, "Italie"));
        let json = serde_json::to_string(&w).expect("serialises");
        let back: PartitionWindows = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, w);
        let closed = w.close_until(CONFIG, 55_000);
        assert_eq!(closed.len(), 1);
        assert_eq!(w.closed_until_ms, Some(50_000));
        assert_eq!(
            w.add(CONFIG, &event(30_000, EventType::PageVue, "Italie")),
            Placed::Late {
                window_start_ms: 30_000
            }
        );
    }
}
