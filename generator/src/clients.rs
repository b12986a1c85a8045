//! The clients pass: each client is drawn, written (with its defect, if it carries one) and
//! forgotten. What the purchases need from a client — how much it buys, when, and its
//! registration day — is kept in compact arrays of a few bytes per client.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Duration, NaiveDate, NaiveTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::weighted::WeightedAliasIndex;
use rand_distr::{Distribution, LogNormal};

use crate::calendar::{Calendar, Cumulative, WINDOW_DAYS};
use crate::churn::{BuyerTimeline, ChurnSignal};
use crate::defects::Defect;
use crate::reference::Country;
use crate::selection::Selection;
use crate::writer::CsvOut;
use crate::{GenerateError, RawRow, Setting, names, rng_stream, target_count};

/// The columns of `clients.csv`, in order.
pub const HEADER: [&str; 5] = ["id_client", "nom", "email", "date_inscription", "pays"];

/// Share of clients who never buy.
const NEVER_BUY: f64 = 0.15;

/// A client as drawn, before any defect.
struct Client {
    nom: String,
    email: String,
    inscription: NaiveDate,
    country: usize,
}

/// What a purchase needs from its client, in 12 bytes read together: when the client buys
/// (`first == u16::MAX` marks a client who never buys) and, for the clients a purchase may be
/// moved before (defect A14: a readable registration late enough for the moved purchase to stay
/// in the window), their registration day.
#[derive(Debug, Clone, Copy)]
struct PackedClient {
    first: u16,
    end: u16,
    departure: u32,
    a14_registration: Option<NaiveDate>,
}

const NO_DEPARTURE: u32 = u32::MAX;

impl PackedClient {
    fn new(timeline: Option<&BuyerTimeline>, a14_registration: Option<NaiveDate>) -> Self {
        // Window indices fit in u16 (WINDOW_DAYS < 65 535); a departure far past the window
        // behaves like any other past it, so it is clamped.
        let day = |d: usize| d.min(u16::MAX as usize - 1) as u16;
        match timeline {
            None => Self {
                first: u16::MAX,
                end: 0,
                departure: NO_DEPARTURE,
                a14_registration,
            },
            Some(t) => Self {
                first: day(t.first),
                end: day(t.end),
                departure: t
                    .departure
                    .map_or(NO_DEPARTURE, |d| d.min(NO_DEPARTURE as usize - 1) as u32),
                a14_registration,
            },
        }
    }

    fn timeline(self) -> Option<BuyerTimeline> {
        (self.first != u16::MAX).then_some(BuyerTimeline {
            first: self.first as usize,
            end: self.end as usize,
            departure: (self.departure != NO_DEPARTURE).then_some(self.departure as usize),
        })
    }
}

/// What the purchases pass needs to know about the clients.
pub(crate) struct Buyers {
    /// Draws a client by its share of purchases; `None` when nobody buys (tiny scales).
    picker: Option<WeightedAliasIndex<f64>>,
    clients: Vec<PackedClient>,
}

impl Buyers {
    /// Number of clients (valid ids are `1..=len`).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// A buying client (0-based index), by purchase share.
    pub fn pick(&self, rng: &mut ChaCha8Rng) -> usize {
        match &self.picker {
            Some(picker) => picker.sample(rng),
            None => self.len().saturating_sub(1),
        }
    }

    /// When client `i` buys (`None` for a client who never buys), and whether a purchase of
    /// theirs may carry defect A14.
    pub fn timeline(&self, i: usize) -> (Option<BuyerTimeline>, bool) {
        self.clients.get(i).map_or((None, false), |c| {
            (c.timeline(), c.a14_registration.is_some())
        })
    }

    /// The registration day of client `i` if a purchase of theirs may carry defect A14.
    pub fn a14_registration(&self, i: usize) -> Option<NaiveDate> {
        self.clients.get(i).and_then(|c| c.a14_registration)
    }
}

/// The outcome of the clients pass.
pub(crate) struct ClientsWritten {
    pub rows: u64,
    pub counts: BTreeMap<Defect, u64>,
    pub buyers: Buyers,
}

/// Draws `n` clients and writes `clients.csv` into `out_dir` (rows that defects add are staged
/// in `scratch` and copied at the end).
pub(crate) fn write(
    setting: &Setting,
    n: usize,
    out_dir: &Path,
    scratch: &Path,
) -> Result<ClientsWritten, GenerateError> {
    let config = setting.config;
    let calendar = &setting.calendar;
    let countries = &setting.countries;
    let mut draw_rng = rng_stream(config.seed, crate::STREAM_CLIENTS);
    let mut defect_rng = rng_stream(config.seed, crate::STREAM_CLIENT_DEFECTS);

    // France dominates, then the neighbours, then a long tail.
    let country_weights = Cumulative::new(
        (0..countries.len()).map(|i| if i == 0 { 8.0 } else { 1.0 / (i as f64).sqrt() }),
    );
    // Heavy-tailed activity: some clients never buy, the others with a log-normal intensity
    // (one shared rate when there is no churn signal), over the days they are active.
    let activity = LogNormal::new(0.0, 1.1).unwrap_or_else(|_| crate::unit_lognormal());
    let a14_floor = calendar.first_day + Duration::days(31);

    let in_place: Vec<(Defect, u64)> = Defect::CLIENTS
        .into_iter()
        .filter(|d| *d != Defect::C8)
        .map(|d| (d, target_count(&config.rates, d, n)))
        .collect();
    let mut defects = Selection::new(in_place, n as u64);
    // C8 rows copy a client under an unreadable id; the copied clients are drawn apart, so
    // they may also carry another defect.
    let mut bad_ids = Selection::new(
        [(Defect::C8, target_count(&config.rates, Defect::C8, n))],
        n as u64,
    );
    let counts: BTreeMap<Defect, u64> = defects.counts().chain(bad_ids.counts()).collect();

    let mut out = CsvOut::create(&out_dir.join("clients.csv"), Some(&HEADER))?;
    let mut added = CsvOut::create(&scratch.join("clients.added.csv"), None)?;
    let mut weights = Vec::with_capacity(n);
    let mut packed = Vec::with_capacity(n);
    let mut id_text = itoa::Buffer::new();
    for i in 0..n {
        let id = i as u64 + 1;
        let client = draw_client(&mut draw_rng, id, calendar, &country_weights);
        let buyer = (draw_rng.random::<f64>() >= NEVER_BUY).then(|| {
            let first = calendar.index_of(client.inscription.max(calendar.first_day));
            let timeline = BuyerTimeline::new(&mut draw_rng, config.churn, first, WINDOW_DAYS);
            let rate = match config.churn {
                ChurnSignal::Decline => activity.sample(&mut draw_rng),
                ChurnSignal::Absent => 1.0,
            };
            (timeline, rate)
        });
        weights.push(buyer.map_or(0.0, |(t, rate)| rate * t.active_share(calendar)));
        let defect = defects.next_row(&mut defect_rng);
        let readable_date = defect != Some(Defect::C5Invalide);
        packed.push(PackedClient::new(
            buyer.as_ref().map(|(t, _)| t),
            (readable_date && client.inscription >= a14_floor).then_some(client.inscription),
        ));
        match defect {
            None => {
                let date = client.inscription.format("%Y-%m-%d").to_string();
                out.write([
                    id_text.format(id).as_bytes(),
                    client.nom.as_bytes(),
                    client.email.as_bytes(),
                    date.as_bytes(),
                    countries[client.country].pays.as_bytes(),
                ])?;
            }
            Some(d @ (Defect::C1 | Defect::C2)) => {
                let raw = client_raw(id, &client, countries);
                out.write(&raw)?;
                added.write(with_defect(&mut defect_rng, d, raw, &client, countries, id))?;
            }
            Some(d) => {
                let raw = client_raw(id, &client, countries);
                out.write(with_defect(&mut defect_rng, d, raw, &client, countries, id))?;
            }
        }
        if bad_ids.next_row(&mut defect_rng).is_some() {
            let mut raw = client_raw(0, &client, countries);
            raw[0] =
                ["", "abc", "12.5", "-4", "ID-77", "  "][defect_rng.random_range(0..6)].to_string();
            raw[3] = crate::fmt_date(calendar.first_day);
            added.write(&raw)?;
        }
    }
    let rows = out.finish(added)?;
    let picker = WeightedAliasIndex::new(weights).ok();
    Ok(ClientsWritten {
        rows,
        counts,
        buyers: Buyers {
            picker,
            clients: packed,
        },
    })
}

fn draw_client(
    rng: &mut ChaCha8Rng,
    id: u64,
    calendar: &Calendar,
    country_weights: &Cumulative,
) -> Client {
    // Registrations over the window and the year before it, more of them recently.
    let span = WINDOW_DAYS as i64 + 365;
    let first = calendar.first_day - Duration::days(365);
    let (prenom, nom) = names::pick(rng);
    let recent: f64 = rng.random::<f64>().sqrt();
    let inscription = first + Duration::days((recent * (span - 1) as f64) as i64);
    Client {
        nom: format!("{} {}", prenom.display, nom.display),
        email: format!(
            "{}.{}{}@{}",
            prenom.ascii,
            nom.ascii,
            id,
            names::DOMAINS[rng.random_range(0..names::DOMAINS.len())]
        ),
        inscription,
        country: country_weights.find(rng.random::<f64>() * country_weights.total()),
    }
}

fn client_raw(id: u64, c: &Client, countries: &[Country]) -> RawRow {
    [
        id.to_string(),
        c.nom.clone(),
        c.email.clone(),
        crate::fmt_date(c.inscription),
        countries[c.country].pays.clone(),
    ]
}

/// The text of a client row once defect `d` is applied (for C1 and C2, the row added).
fn with_defect(
    rng: &mut ChaCha8Rng,
    d: Defect,
    mut raw: RawRow,
    c: &Client,
    countries: &[Country],
    id: u64,
) -> RawRow {
    match d {
        Defect::C2 => {
            let (prenom, nom) = names::pick(rng);
            raw[1] = format!("{} {}", prenom.display, nom.display);
            raw[2] = format!("{}.{}{}@nouveau-mail.fr", prenom.ascii, nom.ascii, id);
        }
        Defect::C3 => raw[2] = names::shout_email(rng, &c.email),
        Defect::C4 => raw[2] = names::break_email(rng, &c.email),
        Defect::C5 => {
            raw[3] = match rng.random_range(0..3) {
                0 => c.inscription.format("%d/%m/%Y").to_string(),
                1 => c.inscription.format("%Y/%m/%d").to_string(),
                _ => c
                    .inscription
                    .and_time(NaiveTime::MIN)
                    .and_utc()
                    .timestamp()
                    .to_string(),
            }
        }
        Defect::C5Invalide => {
            raw[3] = ["31/02/2024", "2024-13-01", "inconnue", "00/00/0000"][rng.random_range(0..4)]
                .to_string()
        }
        Defect::C6 => raw[4] = names::country_variant(rng, &countries[c.country]),
        Defect::C6Inconnu => {
            raw[4] = ["Atlantide", "Narnia", "XX", "Wakanda"][rng.random_range(0..4)].to_string()
        }
        Defect::C7 => raw[1] = names::spread_spaces(rng, &c.nom),
        // C1 adds the row unchanged; the purchases' defects never reach here.
        _ => {}
    }
    raw
}
