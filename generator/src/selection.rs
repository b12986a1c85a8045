//! Exact sampling of defect rows in one pass: the rows are visited in file order and each defect
//! gets exactly its target count of distinct rows, uniformly spread, without holding the file in
//! memory (sequential selection sampling, Knuth's algorithm S extended to several labels).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use crate::defects::Defect;

/// Draws, row by row, which defect (if any) a row carries, so that over a population of a known
/// size every defect lands on exactly its count of distinct rows.
#[derive(Debug, Clone)]
pub struct Selection {
    /// Defects and how many rows each still has to take, in a fixed order.
    remaining: Vec<(Defect, u64)>,
    /// Rows of the population not visited yet.
    rows_left: u64,
}

impl Selection {
    /// `targets` are capped so that they fit the population together; [`Self::counts`] tells
    /// the counts actually reached.
    pub fn new(targets: impl IntoIterator<Item = (Defect, u64)>, population: u64) -> Self {
        let mut room = population;
        let remaining = targets
            .into_iter()
            .map(|(defect, target)| {
                let count = target.min(room);
                room -= count;
                (defect, count)
            })
            .collect();
        Self {
            remaining,
            rows_left: population,
        }
    }

    /// How many rows each defect takes over the whole population.
    pub fn counts(&self) -> impl Iterator<Item = (Defect, u64)> + '_ {
        self.remaining.iter().copied()
    }

    /// The defect of the next row of the population, or `None` for a clean row. Once every row
    /// has been visited it returns `None`.
    pub fn next_row(&mut self, rng: &mut ChaCha8Rng) -> Option<Defect> {
        if self.rows_left == 0 {
            return None;
        }
        let to_place: u64 = self.remaining.iter().map(|(_, n)| n).sum();
        let draw = if to_place == 0 {
            u64::MAX
        } else {
            rng.random_range(0..self.rows_left)
        };
        self.rows_left -= 1;
        let mut below = 0;
        for (defect, left) in &mut self.remaining {
            below += *left;
            if draw < below {
                *left -= 1;
                return Some(*defect);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rand::SeedableRng;

    use super::*;

    fn labels(targets: &[(Defect, u64)], population: u64, seed: u64) -> Vec<Option<Defect>> {
        let mut selection = Selection::new(targets.iter().copied(), population);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..population)
            .map(|_| selection.next_row(&mut rng))
            .collect()
    }

    fn tally(rows: &[Option<Defect>]) -> BTreeMap<Defect, u64> {
        let mut counts = BTreeMap::new();
        for d in rows.iter().flatten() {
            *counts.entry(*d).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn every_defect_gets_exactly_its_count() {
        let targets = [(Defect::A1, 7), (Defect::A4, 0), (Defect::A9, 13)];
        for seed in 0..20 {
            let rows = labels(&targets, 100, seed);
            assert_eq!(
                tally(&rows),
                BTreeMap::from([(Defect::A1, 7), (Defect::A9, 13)])
            );
        }
    }

    #[test]
    fn a_population_too_small_is_filled_in_order_of_the_targets() {
        let targets = [(Defect::C1, 3), (Defect::C2, 3)];
        let selection = Selection::new(targets, 4);
        assert_eq!(
            selection.counts().collect::<Vec<_>>(),
            [(Defect::C1, 3), (Defect::C2, 1)]
        );
        let rows = labels(&targets, 4, 1);
        assert!(rows.iter().all(Option::is_some));
    }

    #[test]
    fn rows_are_spread_over_the_whole_population() {
        // 2 000 defect rows over 100 000: each tenth of the file holds about a tenth of them.
        let rows = labels(&[(Defect::A3, 2_000)], 100_000, 9);
        for tenth in rows.chunks(10_000) {
            let n = tenth.iter().flatten().count();
            assert!((140..=260).contains(&n), "{n} defect rows in a tenth");
        }
    }

    #[test]
    fn visiting_past_the_population_gives_clean_rows() {
        let mut selection = Selection::new([(Defect::A1, 1)], 1);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        assert_eq!(selection.next_row(&mut rng), Some(Defect::A1));
        assert_eq!(selection.next_row(&mut rng), None);
    }
}
