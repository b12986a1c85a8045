//! The churn signal planted in the purchases, so that a churn model has something real to find.
//!
//! With [`ChurnSignal::Decline`] (the default) every buyer has a lifetime: from registration, an
//! exponential number of days (mean [`MEAN_LIFETIME_DAYS`]) until they leave for good. Over the
//! [`DECLINE_DAYS`] before leaving, their purchase rate drops to [`DECLINE_FACTOR`] of their
//! normal rate: a client about to churn buys less often for months before stopping, which shows
//! in their recent purchase counts against their own history before it shows in their recency.
//! Departures may fall after the window, so some clients are declining at its end (the ones a
//! model should flag today).
//!
//! With [`ChurnSignal::Absent`] every client buys at the same rate from registration to the end
//! of the window, and nobody leaves: the past then says nothing about the future, and an honest
//! model finds no signal (ROC-AUC near 0.5).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// Mean days between a buyer's registration (or the window's start) and their departure.
pub const MEAN_LIFETIME_DAYS: f64 = 540.0;
/// Days before leaving during which a buyer's purchase rate is reduced.
pub const DECLINE_DAYS: usize = 180;
/// A leaving buyer's purchase rate during the decline, relative to their normal rate.
pub const DECLINE_FACTOR: f64 = 0.25;
/// Draws of a purchase day before the last one is taken as is (keeps generation bounded).
const MAX_DAY_DRAWS: usize = 64;

/// Which churn behaviour the generated buyers follow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChurnSignal {
    /// Buyers leave after an exponential lifetime, buying less for months before they do.
    #[default]
    Decline,
    /// Everyone buys at one constant rate and nobody leaves: no signal to find.
    Absent,
}

impl ChurnSignal {
    pub fn name(self) -> &'static str {
        match self {
            ChurnSignal::Decline => "decline",
            ChurnSignal::Absent => "absent",
        }
    }
}

impl std::str::FromStr for ChurnSignal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "decline" => Ok(ChurnSignal::Decline),
            "absent" => Ok(ChurnSignal::Absent),
            other => Err(format!(
                "unknown churn signal {other:?}: expected decline or absent"
            )),
        }
    }
}

/// When one buyer buys: window day indices `[first, end)` and a departure day (an index that may
/// lie past the window) with the decline before it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuyerTimeline {
    pub first: usize,
    pub end: usize,
    pub departure: Option<usize>,
}

impl BuyerTimeline {
    /// A buyer active from day `first` to the end of a window of `window_days` days.
    pub fn new(
        rng: &mut ChaCha8Rng,
        signal: ChurnSignal,
        first: usize,
        window_days: usize,
    ) -> Self {
        let departure = match signal {
            ChurnSignal::Absent => None,
            ChurnSignal::Decline => {
                let lifetime = Exp::new(1.0 / MEAN_LIFETIME_DAYS)
                    .map(|d| d.sample(rng))
                    .unwrap_or(MEAN_LIFETIME_DAYS);
                Some(first + 1 + lifetime as usize)
            }
        };
        let end = departure.map_or(window_days, |d| d.min(window_days));
        Self {
            first,
            end,
            departure,
        }
    }

    /// Relative purchase rate on a day: 1, then [`DECLINE_FACTOR`] over the decline, 0 once gone.
    pub fn intensity(&self, day: usize) -> f64 {
        if day < self.first || day >= self.end {
            return 0.0;
        }
        match self.departure {
            Some(departure) if day + DECLINE_DAYS >= departure => DECLINE_FACTOR,
            _ => 1.0,
        }
    }

    /// The calendar's weight of the buyer's days, each scaled by its intensity, as a share of
    /// the whole window's weight. A buyer's share of purchases is their rate times this, so
    /// every buyer of the same rate buys at the same pace on a given day, whenever they
    /// registered (the calendar's growth and seasonality apply to all alike).
    pub fn active_share(&self, calendar: &Calendar) -> f64 {
        let days = &calendar.days;
        let decline_start = self
            .departure
            .map_or(self.end, |d| d.saturating_sub(DECLINE_DAYS))
            .clamp(self.first, self.end);
        // The intensity is 1 before the decline and DECLINE_FACTOR over it, up to `end`.
        let full = days.before(decline_start) - days.before(self.first);
        let declining = DECLINE_FACTOR * (days.before(self.end) - days.before(decline_start));
        (full + declining) / days.total().max(f64::MIN_POSITIVE)
    }

    /// A purchase day: by the calendar's seasonality within `[first, end)`, thinned by the
    /// intensity.
    pub fn sample_day(&self, rng: &mut ChaCha8Rng, calendar: &Calendar) -> usize {
        let lo = calendar.days.before(self.first);
        let hi = calendar.days.before(self.end);
        let mut day = self.first;
        for _ in 0..MAX_DAY_DRAWS {
            day = calendar
                .days
                .find(lo + rng.random::<f64>() * (hi - lo))
                .clamp(self.first, self.end.saturating_sub(1).max(self.first));
            if rng.random::<f64>() < self.intensity(day) {
                break;
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn leaving_on(departure: usize) -> BuyerTimeline {
        BuyerTimeline {
            first: 0,
            end: departure.min(730),
            departure: Some(departure),
        }
    }

    #[test]
    fn intensity_drops_over_the_decline_then_stops() {
        let t = leaving_on(500);
        assert_eq!(t.intensity(319), 1.0);
        assert_eq!(t.intensity(320), DECLINE_FACTOR);
        assert_eq!(t.intensity(499), DECLINE_FACTOR);
        assert_eq!(t.intensity(500), 0.0);
    }

    #[test]
    fn the_active_share_weighs_days_by_the_calendar_and_the_intensity() {
        let calendar = Calendar::ending_before(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        );
        let weight = |d: usize| calendar.days.before(d + 1) - calendar.days.before(d);
        let t = leaving_on(500);
        let expected: f64 =
            (0..500).map(|d| weight(d) * t.intensity(d)).sum::<f64>() / calendar.days.total();
        assert!((t.active_share(&calendar) - expected).abs() < 1e-12);
        let whole = BuyerTimeline {
            first: 0,
            end: 730,
            departure: None,
        };
        assert!((whole.active_share(&calendar) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_departure_after_the_window_still_shows_its_decline() {
        let t = leaving_on(800);
        assert_eq!(t.end, 730);
        assert_eq!(t.intensity(729), DECLINE_FACTOR);
        assert_eq!(t.intensity(600), 1.0);
    }

    #[test]
    fn sampled_days_stay_in_the_active_span_and_thin_out_in_the_decline() {
        let calendar = Calendar::ending_before(
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"),
        );
        let late_share = |departure: Option<usize>| {
            let t = BuyerTimeline {
                first: 100,
                end: 400,
                departure,
            };
            let mut rng = ChaCha8Rng::seed_from_u64(3);
            let days: Vec<usize> = (0..40_000)
                .map(|_| t.sample_day(&mut rng, &calendar))
                .collect();
            assert!(days.iter().all(|d| (100..400).contains(d)));
            let early = days.iter().filter(|d| (100..160).contains(*d)).count();
            let late = days.iter().filter(|d| (340..400).contains(*d)).count();
            late as f64 / early as f64
        };
        // Days 100..160 are before any decline, days 340..400 inside it; the seasonality is
        // the same with and without the decline.
        let ratio = late_share(Some(400)) / late_share(None);
        assert!(
            (ratio / DECLINE_FACTOR - 1.0).abs() < 0.2,
            "ratio {ratio}, expected {DECLINE_FACTOR}"
        );
    }

    #[test]
    fn no_signal_means_no_departure() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let t = BuyerTimeline::new(&mut rng, ChurnSignal::Absent, 10, 730);
        assert_eq!((t.first, t.end, t.departure), (10, 730, None));
    }
}
