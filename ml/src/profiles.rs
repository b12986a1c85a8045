//! Segment profiles: each KMeans segment numbered by value, described in original units, and
//! named in French from its centre (e.g. "Gros acheteurs récents").

use crate::segmentation::{Segmentation, Standardised};

/// Column of each segmentation feature in the standardised space.
const RECENCE: usize = 0;
const MONTANT: usize = 2;
const ANCIENNETE: usize = 4;
/// A centre this many standard deviations from the mean counts as high or low.
const MARKED: f64 = 0.5;

/// One segment, as `gold.segments_profils` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentProfile {
    /// 1 = the segment with the largest centre amount, then decreasing.
    pub number: i32,
    pub label: String,
    pub size: usize,
    pub share: f64,
    /// Centre in original units, one value per segmentation feature.
    pub centre: Vec<f64>,
}

/// Profiles in segment order, and the segment number of each KMeans cluster index.
pub fn profiles(
    segmentation: &Segmentation,
    transform: &Standardised,
) -> (Vec<SegmentProfile>, Vec<i32>) {
    let k = segmentation.k;
    let centres = &segmentation.centroids;
    let mut by_value: Vec<usize> = (0..k).collect();
    by_value.sort_by(|&a, &b| {
        centres[[b, MONTANT]]
            .total_cmp(&centres[[a, MONTANT]])
            .then(a.cmp(&b))
    });
    let mut number_of = vec![0; k];
    for (rank, &cluster) in by_value.iter().enumerate() {
        number_of[cluster] = rank as i32 + 1;
    }
    let n = segmentation.labels.len().max(1);
    let mut out: Vec<SegmentProfile> = by_value
        .iter()
        .map(|&cluster| {
            let centre = centres.row(cluster);
            let size = segmentation
                .labels
                .iter()
                .filter(|l| **l == cluster)
                .count();
            SegmentProfile {
                number: number_of[cluster],
                label: base_label(centre[MONTANT], centre[RECENCE]),
                size,
                share: size as f64 / n as f64,
                centre: transform.to_original(centre),
            }
        })
        .collect();
    disambiguate(&mut out, |i| centres[[by_value[i], ANCIENNETE]]);
    (out, number_of)
}

/// "Gros acheteurs" / "Acheteurs moyens" / "Petits acheteurs" from the amount, then "récents" /
/// "intermittents" / "inactifs" from the recency (a low recency is a recent purchase).
fn base_label(montant_z: f64, recence_z: f64) -> String {
    let value = if montant_z > MARKED {
        "Gros acheteurs"
    } else if montant_z < -MARKED {
        "Petits acheteurs"
    } else {
        "Acheteurs moyens"
    };
    let activity = if recence_z < -MARKED {
        "récents"
    } else if recence_z > MARKED {
        "inactifs"
    } else {
        "intermittents"
    };
    format!("{value} {activity}")
}

/// Segments that share a label get their tenure ("anciens" / "nouveaux") added, then a number.
fn disambiguate(profiles: &mut [SegmentProfile], tenure_z: impl Fn(usize) -> f64) {
    let shared = |profiles: &[SegmentProfile], i: usize| {
        profiles
            .iter()
            .filter(|p| p.label == profiles[i].label)
            .count()
            > 1
    };
    let needs_tenure: Vec<bool> = (0..profiles.len()).map(|i| shared(profiles, i)).collect();
    for (i, needs) in needs_tenure.into_iter().enumerate() {
        if needs {
            let z = tenure_z(i);
            let tenure = if z > MARKED {
                "anciens"
            } else if z < -MARKED {
                "nouveaux"
            } else {
                "d'ancienneté moyenne"
            };
            profiles[i].label = format!("{}, {tenure}", profiles[i].label);
        }
    }
    for i in 0..profiles.len() {
        let earlier = profiles[..i]
            .iter()
            .filter(|p| p.label == profiles[i].label)
            .count();
        if earlier > 0 {
            profiles[i].label = format!("{} ({})", profiles[i].label, earlier + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn standardised_identity() -> Standardised {
        // means 0 and stds 1 after the log: a centre z maps back to e^z - 1.
        Standardised {
            data: ndarray::Array2::zeros((0, 5)),
            means: vec![0.0; 5],
            stds: vec![1.0; 5],
        }
    }

    #[test]
    fn segments_are_numbered_by_amount_and_named_from_their_centre() {
        let segmentation = Segmentation {
            k: 3,
            silhouette: 0.5,
            silhouettes: vec![(3, 0.5)],
            labels: vec![0, 0, 1, 2, 2, 2],
            distances: vec![0.0; 6],
            centroids: array![
                // recence, frequence, montant, panier, anciennete
                [1.0, -1.0, -1.0, 0.0, 0.0],
                [-1.0, 1.0, 2.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0],
            ],
        };
        let (profiles, number_of) = profiles(&segmentation, &standardised_identity());
        assert_eq!(number_of, vec![3, 1, 2]);
        let labels: Vec<&str> = profiles.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Gros acheteurs récents",
                "Acheteurs moyens intermittents",
                "Petits acheteurs inactifs"
            ]
        );
        assert_eq!(
            profiles.iter().map(|p| p.size).collect::<Vec<_>>(),
            [1, 3, 2]
        );
        assert!((profiles[0].centre[2] - (2.0f64.exp() - 1.0)).abs() < 1e-12);
    }

    #[test]
    fn equal_labels_are_told_apart_by_tenure_then_by_number() {
        let segmentation = Segmentation {
            k: 3,
            silhouette: 0.5,
            silhouettes: vec![(3, 0.5)],
            labels: vec![0, 1, 2],
            distances: vec![0.0; 3],
            centroids: array![
                [-1.0, 0.0, 1.0, 0.0, 1.0],
                [-1.0, 0.0, 0.9, 0.0, -1.0],
                [-1.0, 0.0, 0.8, 0.0, -1.0],
            ],
        };
        let (profiles, _) = profiles(&segmentation, &standardised_identity());
        let labels: Vec<&str> = profiles.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Gros acheteurs récents, anciens",
                "Gros acheteurs récents, nouveaux",
                "Gros acheteurs récents, nouveaux (2)"
            ]
        );
    }
}
