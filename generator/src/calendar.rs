//! When purchases happen: a two-year window with growth, month, weekday and hour seasonality,
//! sampled through cumulative weight tables.

use chrono::{Datelike, Duration, NaiveDate};

/// Length of the purchase window, in days, ending the day before `as_of`.
pub const WINDOW_DAYS: usize = 730;

/// Relative sales by month, January first: winter lull, summer dip, Black Friday and Christmas.
const MONTH_FACTOR: [f64; 12] = [
    0.85, 0.80, 0.90, 0.95, 1.00, 0.95, 0.90, 0.85, 0.95, 1.05, 1.30, 1.50,
];
/// Relative sales by weekday, Monday first: busier towards the weekend.
const WEEKDAY_FACTOR: [f64; 7] = [0.90, 0.92, 0.95, 1.00, 1.10, 1.25, 1.05];
/// Relative sales by hour of the day: quiet nights, a lunch peak and an evening peak.
const HOUR_FACTOR: [f64; 24] = [
    0.25, 0.15, 0.10, 0.08, 0.08, 0.12, 0.30, 0.55, 0.80, 0.95, 1.05, 1.15, 1.35, 1.30, 1.05, 1.00,
    1.05, 1.15, 1.35, 1.60, 1.70, 1.50, 1.00, 0.55,
];
/// Sales grow by this share over the window (linearly).
const GROWTH_OVER_WINDOW: f64 = 0.6;

/// Cumulative weights over a discrete set, sampled by binary search.
#[derive(Debug, Clone)]
pub struct Cumulative {
    cumulative: Vec<f64>,
}

impl Cumulative {
    pub fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .into_iter()
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Self { cumulative }
    }

    pub fn total(&self) -> f64 {
        self.cumulative.last().copied().unwrap_or(0.0)
    }

    /// Weight accumulated before item `i`.
    pub fn before(&self, i: usize) -> f64 {
        if i == 0 {
            0.0
        } else {
            self.cumulative[(i - 1).min(self.cumulative.len() - 1)]
        }
    }

    /// The item at accumulated weight `x` (0 ≤ x < total).
    pub fn find(&self, x: f64) -> usize {
        self.cumulative
            .partition_point(|c| *c <= x)
            .min(self.cumulative.len().saturating_sub(1))
    }
}

/// The purchase window and its seasonality tables.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub first_day: NaiveDate,
    pub days: Cumulative,
    pub hours: Cumulative,
}

impl Calendar {
    /// The window of [`WINDOW_DAYS`] days ending the day before `as_of_day`.
    pub fn ending_before(as_of_day: NaiveDate) -> Self {
        let first_day = as_of_day - Duration::days(WINDOW_DAYS as i64);
        let days = Cumulative::new((0..WINDOW_DAYS).map(|i| {
            let day = first_day + Duration::days(i as i64);
            let growth = 1.0 + GROWTH_OVER_WINDOW * i as f64 / WINDOW_DAYS as f64;
            growth
                * MONTH_FACTOR[day.month0() as usize]
                * WEEKDAY_FACTOR[day.weekday().num_days_from_monday() as usize]
        }));
        Self {
            first_day,
            days,
            hours: Cumulative::new(HOUR_FACTOR),
        }
    }

    pub fn day(&self, index: usize) -> NaiveDate {
        self.first_day + Duration::days(index as i64)
    }

    /// Index of `day` in the window, clamped to it.
    pub fn index_of(&self, day: NaiveDate) -> usize {
        (day - self.first_day)
            .num_days()
            .clamp(0, WINDOW_DAYS as i64 - 1) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_sampling_respects_weights() {
        let c = Cumulative::new([1.0, 0.0, 3.0]);
        assert_eq!(c.total(), 4.0);
        assert_eq!(c.find(0.0), 0);
        assert_eq!(c.find(0.99), 0);
        assert_eq!(c.find(1.0), 2);
        assert_eq!(c.find(3.99), 2);
        assert_eq!(c.before(2), 1.0);
    }

    #[test]
    fn window_ends_the_day_before_as_of() {
        let as_of = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let cal = Calendar::ending_before(as_of);
        assert_eq!(cal.day(WINDOW_DAYS - 1), as_of - Duration::days(1));
        assert_eq!(cal.index_of(as_of), WINDOW_DAYS - 1);
    }
}
