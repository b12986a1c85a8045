//! Simulated shoppers: each session is a small state machine over the generator's countries,
//! catalogue and client ids.
//!
//! ```text
//! visit ─► page_vue × 1..6 ─┬─► (leaves, no event)
//!                           └─► ajout_panier ─┬─► panier_abandonne
//!                                             └─► checkout ─┬─► achat
//!                                                           └─► panier_abandonne
//! ```
//!
//! Events are produced in event-time order, `rate` per second of event time, from many sessions
//! at once (a session's own events stay in order: the producer keys them by session). Injected
//! scenarios bend the stream for a while; with `late` some events are held back and sent later
//! with their original time. Everything is drawn from one seeded generator, so a seed replays the
//! same stream.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use lake_generator::reference::{self, Country, Product};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventType};

/// A scenario the producer injects, and writes down as ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "scenario", rename_all = "kebab-case")]
pub enum Scenario {
    /// Every cart of one country is abandoned, and three times as many carts are filled.
    AbandonSpike { pays: String },
    /// Nine events in ten are never sent.
    TrafficDrop,
    /// Purchases of one country cost five times their price.
    PriceAnomaly { pays: String },
}

/// A scenario over `[start_ms, end_ms)` of event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Injection {
    #[serde(flatten)]
    pub scenario: Scenario,
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Injection {
    /// `abandon-spike:PAYS:START:SECONDS`, `traffic-drop:START:SECONDS` or
    /// `price-anomaly:PAYS:START:SECONDS`, START in seconds after the stream's start.
    pub fn parse(text: &str, stream_start_ms: i64) -> Result<Self, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let seconds = |s: &str, what: &str| {
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| (v * 1000.0) as i64)
                .ok_or_else(|| format!("{what} {s:?} in {text:?} is not a number of seconds"))
        };
        let (scenario, start, length) = match parts.as_slice() {
            ["abandon-spike", pays, start, length] => (
                Scenario::AbandonSpike {
                    pays: pays.to_string(),
                },
                start,
                length,
            ),
            ["price-anomaly", pays, start, length] => (
                Scenario::PriceAnomaly {
                    pays: pays.to_string(),
                },
                start,
                length,
            ),
            ["traffic-drop", start, length] => (Scenario::TrafficDrop, start, length),
            _ => {
                return Err(format!(
                    "{text:?} is not a scenario: use abandon-spike:PAYS:START:SECONDS, \
                     traffic-drop:START:SECONDS or price-anomaly:PAYS:START:SECONDS"
                ));
            }
        };
        if let Scenario::AbandonSpike { pays } | Scenario::PriceAnomaly { pays } = &scenario {
            let countries = reference::countries();
            if !countries.iter().any(|c| c.pays == *pays) {
                let known: Vec<&str> = countries.iter().map(|c| c.pays.as_str()).collect();
                return Err(format!(
                    "{pays:?} in {text:?} is not a country of the reference: {}",
                    known.join(", ")
                ));
            }
        }
        let start_ms = stream_start_ms + seconds(start, "start")?;
        Ok(Injection {
            scenario,
            start_ms,
            end_ms: start_ms + seconds(length, "length")?,
        })
    }

    fn active(&self, time_ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&time_ms)
    }
}

/// Events sent late: a share of them, each held back by up to `max_delay_ms` of event time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lateness {
    pub fraction: f64,
    pub max_delay_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimulationConfig {
    /// Events per second of event time.
    pub rate: f64,
    pub start_ms: i64,
    pub duration_ms: i64,
    /// Client ids are 1..=clients (the generator's, at its scale).
    pub clients: i64,
    pub seed: u64,
    pub injections: Vec<Injection>,
    pub late: Option<Lateness>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Browsing { views_left: u32 },
    Cart,
    Checkout,
    Abandon,
}

#[derive(Debug, Clone)]
struct Session {
    id: String,
    client: Option<i64>,
    pays: usize,
    produit: usize,
    step: Step,
}

/// Sessions running at once.
const SESSIONS: usize = 400;

/// The stream: an iterator of events in sending order.
pub struct Simulation {
    config: SimulationConfig,
    rng: ChaCha8Rng,
    countries: Vec<Country>,
    products: Vec<Product>,
    sessions: Vec<Session>,
    next_session: u64,
    tick: u64,
    /// Events held back, by the event time they are sent at.
    held: BinaryHeap<Reverse<(i64, u64, HeldEvent)>>,
}

/// An event waiting in `held` (ordered by its place in the stream only).
#[derive(Debug, Clone)]
struct HeldEvent(Event);

impl PartialEq for HeldEvent {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for HeldEvent {}
impl PartialOrd for HeldEvent {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for HeldEvent {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

impl Simulation {
    pub fn new(config: SimulationConfig) -> Self {
        let mut simulation = Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            countries: reference::countries(),
            products: reference::products(),
            sessions: Vec::with_capacity(SESSIONS),
            next_session: 0,
            tick: 0,
            held: BinaryHeap::new(),
        };
        for _ in 0..SESSIONS {
            let session = simulation.new_session();
            simulation.sessions.push(session);
        }
        simulation
    }

    /// Event time of the stream's `tick`-th slot.
    fn time_of(&self, tick: u64) -> i64 {
        self.config.start_ms + (tick as f64 * 1000.0 / self.config.rate) as i64
    }

    fn new_session(&mut self) -> Session {
        self.next_session += 1;
        // Seven visitors in ten are signed-in clients; a client always shops from one country.
        let client = (self.rng.random_bool(0.7) && self.config.clients > 0)
            .then(|| self.rng.random_range(1..=self.config.clients));
        let pays = match client {
            Some(id) if id % 5 < 2 => 0,
            Some(id) => (id as usize * 7) % self.countries.len(),
            None if self.rng.random_bool(0.4) => 0,
            None => self.rng.random_range(0..self.countries.len()),
        };
        Session {
            id: format!("s{}-{}", self.config.seed, self.next_session),
            client,
            pays,
            produit: self.rng.random_range(0..self.products.len()),
            step: Step::Browsing {
                views_left: self.rng.random_range(1..=6),
            },
        }
    }

    fn injected(&self, time_ms: i64, wanted: impl Fn(&Scenario) -> bool) -> bool {
        self.config
            .injections
            .iter()
            .any(|i| i.active(time_ms) && wanted(&i.scenario))
    }

    /// The next event of session `index` at `time_ms`, moving it along (a session that ends is
    /// replaced).
    fn step(&mut self, index: usize, time_ms: i64) -> Option<Event> {
        let session = self.sessions[index].clone();
        let pays = self.countries[session.pays].pays.clone();
        let spike = self.injected(
            time_ms,
            |s| matches!(s, Scenario::AbandonSpike { pays: p } if *p == pays),
        );
        let (kind, next) = match session.step {
            Step::Browsing { views_left } if views_left > 1 => (
                EventType::PageVue,
                Some(Step::Browsing {
                    views_left: views_left - 1,
                }),
            ),
            Step::Browsing { .. } => {
                let carts = if spike { 0.9 } else { 0.3 };
                let next = self.rng.random_bool(carts).then_some(Step::Cart);
                (EventType::PageVue, next)
            }
            Step::Cart => {
                let next = if spike || self.rng.random_bool(0.4) {
                    Step::Abandon
                } else {
                    Step::Checkout
                };
                (EventType::AjoutPanier, Some(next))
            }
            Step::Checkout if !spike && self.rng.random_bool(0.75) => (EventType::Achat, None),
            Step::Checkout | Step::Abandon => (EventType::PanierAbandonne, None),
        };
        match next {
            Some(step) => self.sessions[index].step = step,
            None => self.sessions[index] = self.new_session(),
        }
        let product = self.products[session.produit].clone();
        let montant_cents = (kind == EventType::Achat).then(|| {
            let dear = self.injected(
                time_ms,
                |s| matches!(s, Scenario::PriceAnomaly { pays: p } if *p == pays),
            );
            let price = product.prix_reference * self.rng.random_range(0.9..1.1);
            let price = if dear { price * 5.0 } else { price };
            ((price * 100.0).round() as i64).max(1)
        });
        Some(Event {
            event_id: format!("{}-{}", session.id, self.tick),
            event_time_ms: time_ms,
            session_id: session.id,
            id_client: session.client,
            kind,
            produit: Some(product.produit.clone()),
            montant_cents,
            pays,
        })
    }
}

impl Iterator for Simulation {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        let end = self.config.start_ms + self.config.duration_ms;
        loop {
            let now = self.time_of(self.tick);
            // Held events due by now go first (all of them once the stream is over).
            if let Some(Reverse((due, _, _))) = self.held.peek()
                && (*due <= now || now >= end)
            {
                return self.held.pop().map(|Reverse((_, _, HeldEvent(e)))| e);
            }
            if now >= end {
                return None;
            }
            self.tick += 1;
            if self.injected(now, |s| *s == Scenario::TrafficDrop) && self.rng.random_bool(0.9) {
                continue;
            }
            let index = self.rng.random_range(0..self.sessions.len());
            let Some(event) = self.step(index, now) else {
                continue;
            };
            if let Some(late) = self.config.late
                && self.rng.random_bool(late.fraction)
            {
                let delay = self.rng.random_range(1..=late.max_delay_ms.max(1));
                self.held
                    .push(Reverse((now + delay, self.tick, HeldEvent(event))));
                continue;
            }
            return Some(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(injections: Vec<Injection>) -> SimulationConfig {
        SimulationConfig {
            rate: 1_000.0,
            start_ms: 0,
            duration_ms: 60_000,
            clients: 10_000,
            seed: 7,
            injections,
            late: None,
        }
    }

    fn per_type(events: &[Event], from: i64, to: i64, pays: &str) -> HashMap<EventType, usize> {
        let mut counts = HashMap::new();
        for e in events
            .iter()
            .filter(|e| (from..to).contains(&e.event_time_ms) && e.pays == pays)
        {
            *counts.entry(e.kind).or_default() += 1;
        }
        counts
    }

    #[test]
    fn sessions_follow_the_funnel_and_the_stream_is_reproducible() {
        let events: Vec<Event> = Simulation::new(config(vec![])).collect();
        assert_eq!(events.len(), 60_000);
        assert!(
            events
                .windows(2)
                .all(|w| w[0].event_time_ms <= w[1].event_time_ms)
        );
        let again: Vec<Event> = Simulation::new(config(vec![])).collect();
        assert_eq!(events, again);
        // Within a session: views, then at most one cart, then its outcome.
        let mut sessions: HashMap<&str, Vec<EventType>> = HashMap::new();
        for e in &events {
            sessions.entry(&e.session_id).or_default().push(e.kind);
        }
        for kinds in sessions.values() {
            let views = kinds
                .iter()
                .take_while(|k| **k == EventType::PageVue)
                .count();
            let rest = &kinds[views..];
            assert!(
                rest.is_empty()
                    || rest == [EventType::AjoutPanier]
                    || rest == [EventType::AjoutPanier, EventType::Achat]
                    || rest == [EventType::AjoutPanier, EventType::PanierAbandonne],
                "{kinds:?}"
            );
        }
        assert!(
            events
                .iter()
                .all(|e| (e.kind == EventType::Achat) == e.montant_cents.is_some())
        );
    }

    #[test]
    fn a_spike_fills_and_abandons_the_carts_of_one_country() {
        let spike = Injection::parse("abandon-spike:Belgique:20:10", 0).expect("a scenario");
        assert_eq!((spike.start_ms, spike.end_ms), (20_000, 30_000));
        let events: Vec<Event> = Simulation::new(config(vec![spike])).collect();
        let before = per_type(&events, 0, 20_000, "Belgique");
        let during = per_type(&events, 20_000, 30_000, "Belgique");
        let abandons = |c: &HashMap<EventType, usize>| c.get(&EventType::PanierAbandonne).copied();
        // Twice as long before as during: 10 s of spike must still abandon far more.
        assert!(
            abandons(&during) > abandons(&before),
            "{before:?} {during:?}"
        );
        // Purchases in Belgium stop during the spike (but the sessions already at checkout).
        assert!(
            during.get(&EventType::Achat).copied().unwrap_or(0) < 5,
            "{during:?}"
        );
    }

    #[test]
    fn held_back_events_keep_their_time_and_nothing_is_lost() {
        let mut with_late = config(vec![]);
        with_late.late = Some(Lateness {
            fraction: 0.05,
            max_delay_ms: 20_000,
        });
        let events: Vec<Event> = Simulation::new(with_late).collect();
        assert_eq!(events.len(), 60_000);
        let out_of_order = events
            .windows(2)
            .filter(|w| w[1].event_time_ms < w[0].event_time_ms)
            .count();
        assert!(out_of_order > 1_000, "{out_of_order}");
    }

    #[test]
    fn scenarios_are_parsed_or_refused_by_name() {
        let drop = Injection::parse("traffic-drop:5:2.5", 1_000).expect("parsed");
        assert_eq!(drop.scenario, Scenario::TrafficDrop);
        assert_eq!((drop.start_ms, drop.end_ms), (6_000, 8_500));
        let bad = Injection::parse("meteor:France:1:1", 0).expect_err("unknown");
        assert!(bad.contains("is not a scenario"), "{bad}");
        let bad = Injection::parse("abandon-spike:Frnace:1:1", 0).expect_err("unknown country");
        assert!(
            bad.contains("\"Frnace\"") && bad.contains("Belgique"),
            "{bad}"
        );
        let bad = Injection::parse("traffic-drop:soon:1", 0).expect_err("bad start");
        assert!(bad.contains("\"soon\""), "{bad}");
    }
}
