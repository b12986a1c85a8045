//! Anomaly detectors over complete windows (all partitions summed).
//!
//! Each rule keeps, per key, an exponentially weighted mean and variance of one measure:
//! - `volume`: the number of events of a (type, pays), spikes and drops alike;
//! - `part_abandon`: per country, abandoned carts ÷ (abandoned carts + purchases);
//! - `panier_moyen`: per country, the mean purchase amount.
//!
//! A window is anomalous for a key when the baseline has seen at least `warmup` windows, the
//! measure rests on at least `min_count` events, and its z-score reaches `threshold` (the
//! standard deviation is floored by the noise a Poisson count, a binomial share, or a mean of
//! prices spread as widely as their mean would have, so a quiet key does not alert on a single
//! event). An anomalous window
//! does not update the baseline, so a long spike stays visible. Missing keys count as 0 events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::event::EventType;
use crate::window::KeyTally;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Weight of the newest window in the baselines.
    pub alpha: f64,
    pub threshold: f64,
    pub min_count: u64,
    pub warmup: u32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            alpha: 0.1,
            threshold: 5.0,
            min_count: 20,
            warmup: 10,
        }
    }
}

/// An exponentially weighted mean and variance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub mean: f64,
    pub variance: f64,
    pub windows: u32,
}

impl Baseline {
    fn update(&mut self, x: f64, alpha: f64) {
        if self.windows == 0 {
            self.mean = x;
            self.variance = 0.0;
        } else {
            let delta = x - self.mean;
            self.mean += alpha * delta;
            self.variance = (1.0 - alpha) * (self.variance + alpha * delta * delta);
        }
        self.windows += 1;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub window_start_ms: i64,
    /// `volume`, `part_abandon` or `panier_moyen`.
    pub rule: String,
    /// The event type for `volume`, else NULL.
    #[serde(rename = "type")]
    pub kind: Option<EventType>,
    pub pays: String,
    pub valeur: f64,
    pub moyenne: f64,
    pub z: f64,
}

impl Alert {
    /// The alert's identity: one per window, rule and key.
    pub fn id(&self) -> String {
        let kind = self.kind.map_or("-", EventType::name);
        format!(
            "{}|{}|{}|{}",
            self.window_start_ms, self.rule, kind, self.pays
        )
    }
}

/// The baselines of every rule and key. Serialisable: it is saved after each window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Detector {
    /// `volume`: keyed `type|pays`.
    pub volume: BTreeMap<String, Baseline>,
    pub part_abandon: BTreeMap<String, Baseline>,
    pub panier_moyen: BTreeMap<String, Baseline>,
}

/// One measure to judge: its value, how many events it rests on, and its noise floor.
struct Measure {
    value: f64,
    events: u64,
    floor: f64,
}

impl Detector {
    /// Judges one complete window (the tallies of all its keys) and learns from it.
    pub fn observe(
        &mut self,
        config: &DetectorConfig,
        window_start_ms: i64,
        keys: &[KeyTally],
    ) -> Vec<Alert> {
        let mut alerts = Vec::new();
        let count = |kind: EventType, pays: &str| {
            keys.iter()
                .find(|k| k.kind == kind && k.pays == pays)
                .map_or(0, |k| k.tally.nb)
        };

        // Volume per (type, pays): keys seen now or before.
        let mut volume_keys: Vec<(EventType, String)> =
            keys.iter().map(|k| (k.kind, k.pays.clone())).collect();
        for key in self.volume.keys() {
            if let Some((kind, pays)) = key.split_once('|')
                && let Some(kind) = EventType::from_name(kind)
            {
                volume_keys.push((kind, pays.to_string()));
            }
        }
        volume_keys.sort();
        volume_keys.dedup();
        for (kind, pays) in volume_keys {
            let n = count(kind, &pays);
            let baseline = self
                .volume
                .entry(format!("{}|{pays}", kind.name()))
                .or_default();
            let measure = Measure {
                value: n as f64,
                events: n.max(baseline.mean.round() as u64),
                floor: baseline.mean.max(1.0).sqrt(),
            };
            if let Some((z, mean)) = judge(config, baseline, &measure) {
                alerts.push(Alert {
                    window_start_ms,
                    rule: "volume".into(),
                    kind: Some(kind),
                    pays: pays.clone(),
                    valeur: measure.value,
                    moyenne: mean,
                    z,
                });
            }
        }

        // Per country: abandoned-cart share and mean purchase amount.
        let mut countries: Vec<&str> = keys.iter().map(|k| k.pays.as_str()).collect();
        countries.sort();
        countries.dedup();
        for pays in countries {
            let (abandons, achats) = (
                count(EventType::PanierAbandonne, pays),
                count(EventType::Achat, pays),
            );
            let carts = abandons + achats;
            if carts > 0 {
                let baseline = self.part_abandon.entry(pays.to_string()).or_default();
                let share = abandons as f64 / carts as f64;
                let p = baseline.mean.clamp(0.05, 0.95);
                let measure = Measure {
                    value: share,
                    events: carts,
                    floor: (p * (1.0 - p) / carts as f64).sqrt(),
                };
                if let Some((z, mean)) = judge(config, baseline, &measure) {
                    alerts.push(Alert {
                        window_start_ms,
                        rule: "part_abandon".into(),
                        kind: None,
                        pays: pays.to_string(),
                        valeur: share,
                        moyenne: mean,
                        z,
                    });
                }
            }
            let spent = keys
                .iter()
                .find(|k| k.kind == EventType::Achat && k.pays == pays)
                .map(|k| k.tally);
            if let Some(spent) = spent.filter(|t| t.nb > 0) {
                let baseline = self.panier_moyen.entry(pays.to_string()).or_default();
                let mean_amount = spent.montant_cents as f64 / 100.0 / spent.nb as f64;
                let measure = Measure {
                    value: mean_amount,
                    // A mean amount is steadier than a count: judge it from a few purchases.
                    events: spent.nb * 4,
                    // Prices of the catalogue spread about as widely as their mean.
                    floor: baseline.mean.abs() / (spent.nb as f64).sqrt(),
                };
                if let Some((z, mean)) = judge(config, baseline, &measure) {
                    alerts.push(Alert {
                        window_start_ms,
                        rule: "panier_moyen".into(),
                        kind: None,
                        pays: pays.to_string(),
                        valeur: mean_amount,
                        moyenne: mean,
                        z,
                    });
                }
            }
        }
        alerts
    }
}

/// `Some((z, baseline mean))` when the measure is anomalous; otherwise the baseline learns it.
fn judge(
    config: &DetectorConfig,
    baseline: &mut Baseline,
    measure: &Measure,
) -> Option<(f64, f64)> {
    if baseline.windows >= config.warmup && measure.events >= config.min_count {
        let spread = baseline
            .variance
            .sqrt()
            .max(measure.floor)
            .max(f64::EPSILON);
        let z = (measure.value - baseline.mean) / spread;
        if z.abs() >= config.threshold {
            return Some((z, baseline.mean));
        }
    }
    baseline.update(measure.value, config.alpha);
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::Tally;

    fn tally(kind: EventType, pays: &str, nb: u64, montant_cents: i64) -> KeyTally {
        KeyTally {
            kind,
            pays: pays.into(),
            tally: Tally { nb, montant_cents },
        }
    }

    /// A steady window with a little deterministic wobble.
    fn steady(i: i64) -> Vec<KeyTally> {
        let wobble = [0, 3, -2, 5, -4, 1, -1, 2][(i % 8) as usize];
        vec![
            tally(EventType::PageVue, "France", (400 + wobble * 3) as u64, 0),
            tally(
                EventType::Achat,
                "France",
                (40 + wobble) as u64,
                (40 + wobble) * 5_000,
            ),
            tally(
                EventType::PanierAbandonne,
                "France",
                (60 - wobble) as u64,
                0,
            ),
        ]
    }

    #[test]
    fn a_steady_stream_raises_nothing_and_a_spike_is_caught_and_kept_out_of_the_baseline() {
        let config = DetectorConfig::default();
        let mut detector = Detector::default();
        for i in 0..60 {
            let alerts = detector.observe(&config, i * 10_000, &steady(i));
            assert!(alerts.is_empty(), "window {i}: {alerts:?}");
        }
        let before = detector.part_abandon["France"];
        // Abandoned carts × 4 in one window.
        let mut spike = steady(60);
        spike[2].tally.nb = 240;
        let alerts = detector.observe(&config, 600_000, &spike);
        let rules: Vec<&str> = alerts.iter().map(|a| a.rule.as_str()).collect();
        assert_eq!(rules, ["volume", "part_abandon"], "{alerts:?}");
        assert_eq!(alerts[0].kind, Some(EventType::PanierAbandonne));
        assert_eq!(alerts[0].id(), "600000|volume|panier_abandonne|France");
        assert_eq!(detector.part_abandon["France"], before);
    }

    #[test]
    fn a_drop_to_nothing_and_a_price_jump_are_anomalies() {
        let config = DetectorConfig::default();
        let mut detector = Detector::default();
        for i in 0..20 {
            detector.observe(&config, i * 10_000, &steady(i));
        }
        // No event at all from France: every volume drops to 0.
        let alerts = detector.observe(&config, 200_000, &[]);
        assert_eq!(alerts.len(), 3, "{alerts:?}");
        assert!(alerts.iter().all(|a| a.rule == "volume" && a.z < 0.0));
        // Purchases ten times dearer.
        let mut dear = steady(21);
        dear[1].tally.montant_cents *= 10;
        let alerts = detector.observe(&config, 210_000, &dear);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        assert_eq!(alerts[0].rule, "panier_moyen");
    }

    #[test]
    fn quiet_keys_and_young_baselines_do_not_alert() {
        let config = DetectorConfig::default();
        let mut detector = Detector::default();
        let quiet = |nb| vec![tally(EventType::PageVue, "Suisse", nb, 0)];
        for i in 0..10 {
            assert!(detector.observe(&config, i, &quiet(1)).is_empty());
        }
        // 15 views where 1 is usual: under min_count.
        assert!(detector.observe(&config, 10, &quiet(15)).is_empty());
        let mut young = Detector::default();
        young.observe(&config, 0, &quiet(100));
        assert!(young.observe(&config, 1, &quiet(1_000)).is_empty());
    }
}
