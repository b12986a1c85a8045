//! Customer segmentation: KMeans on log-transformed, standardised features; k is the one with
//! the best mean silhouette over `k_min..=k_max`. The centres are fitted on a fixed, evenly
//! spaced sample of rows (every row is then given its nearest centre), the seed fixes KMeans'
//! initialisation, and the silhouette is computed on a smaller fixed sample, so two runs on the
//! same data give the same segments, in a time that does not grow with the number of clients.

use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_clustering::KMeans;
use linfa_rng::Xoshiro256Plus;
use linfa_rng::rand_core::SeedableRng;
use ndarray::{Array1, Array2, ArrayView1, Axis};

use crate::error::MlError;

#[derive(Debug, Clone)]
pub struct SegmentationConfig {
    pub k_min: usize,
    pub k_max: usize,
    pub seed: u64,
    /// KMeans restarts per k (the best inertia wins).
    pub n_runs: usize,
    /// Rows the centres are fitted on; all rows when fewer.
    pub fit_sample: usize,
    /// Rows used for the silhouette (it costs O(n²)); all rows when fewer.
    pub silhouette_sample: usize,
}

impl Default for SegmentationConfig {
    fn default() -> Self {
        Self {
            k_min: 3,
            k_max: 8,
            seed: 42,
            n_runs: 4,
            fit_sample: 20_000,
            silhouette_sample: 2_000,
        }
    }
}

/// The chosen clustering.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    pub k: usize,
    /// Mean silhouette of the chosen k, in [-1, 1].
    pub silhouette: f64,
    /// Mean silhouette of every k tried, in order.
    pub silhouettes: Vec<(usize, f64)>,
    /// Segment of each row, 0..k.
    pub labels: Vec<usize>,
    /// Distance of each row to its segment's centre (in the standardised space).
    pub distances: Vec<f64>,
    /// Centres in the standardised space, one row per segment.
    pub centroids: Array2<f64>,
}

/// Features after [`log_standardise`], with what maps centres back to original units.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardised {
    pub data: Array2<f64>,
    /// Mean of each column after the log.
    pub means: Vec<f64>,
    /// Standard deviation of each column after the log (0 for a constant column).
    pub stds: Vec<f64>,
}

impl Standardised {
    /// Other rows in the same space: `ln(1 + x)`, then this fit's means and deviations (to score
    /// new data with a model trained on the fitted rows).
    pub fn transform(&self, raw: &Array2<f64>) -> Result<Array2<f64>, MlError> {
        let mut data = log_columns(raw)?;
        for (j, mut column) in data.axis_iter_mut(Axis(1)).enumerate() {
            let (mean, std) = (self.means[j], self.stds[j]);
            let scale = if std > 0.0 { std } else { 1.0 };
            column.mapv_inplace(|v| (v - mean) / scale);
        }
        Ok(data)
    }

    /// A point of the standardised space back in original units (e.g. a segment's centre).
    pub fn to_original(&self, point: ArrayView1<'_, f64>) -> Vec<f64> {
        point
            .iter()
            .enumerate()
            .map(|(j, z)| (self.means[j] + z * self.stds[j]).exp_m1())
            .collect()
    }
}

fn log_columns(raw: &Array2<f64>) -> Result<Array2<f64>, MlError> {
    let mut data = raw.clone();
    for ((row, column), value) in data.indexed_iter_mut() {
        if !value.is_finite() {
            return Err(MlError::NonFinite { column, row });
        }
        *value = value.max(0.0).ln_1p();
    }
    Ok(data)
}

/// `ln(1 + x)` on every column (features are counts, amounts and days, all >= 0), then each
/// column centred and scaled to unit variance (a constant column becomes 0).
pub fn log_standardise(raw: &Array2<f64>) -> Result<Standardised, MlError> {
    let mut data = log_columns(raw)?;
    let mut means = Vec::with_capacity(data.ncols());
    let mut stds = Vec::with_capacity(data.ncols());
    for mut column in data.axis_iter_mut(Axis(1)) {
        let n = column.len().max(1) as f64;
        let mean = column.sum() / n;
        let variance = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let std = variance.sqrt();
        let scale = if std > 0.0 { std } else { 1.0 };
        column.mapv_inplace(|v| (v - mean) / scale);
        means.push(mean);
        stds.push(std);
    }
    Ok(Standardised { data, means, stds })
}

/// Clusters the rows of `data` (already transformed) for each k of the range, and keeps the k
/// with the best mean silhouette (the smaller k on a tie).
pub fn segment(data: &Array2<f64>, config: &SegmentationConfig) -> Result<Segmentation, MlError> {
    let (k_min, k_max) = (config.k_min, config.k_max);
    if k_min < 2 || k_min > k_max {
        return Err(MlError::BadKRange {
            min: k_min,
            max: k_max,
        });
    }
    if data.nrows() <= k_max {
        return Err(MlError::TooFewRows {
            rows: data.nrows(),
            k: k_max,
        });
    }
    let sample = sample_rows(data.nrows(), config.silhouette_sample);
    let fit_rows = data.select(Axis(0), &sample_rows(data.nrows(), config.fit_sample));
    let mut best: Option<Segmentation> = None;
    let mut silhouettes = Vec::new();
    for k in k_min..=k_max {
        let (labels, centroids) = kmeans(&fit_rows, data, k, config)?;
        let score = silhouette_on(data, &labels, k, &sample);
        silhouettes.push((k, score));
        if best.as_ref().is_none_or(|b| score > b.silhouette) {
            let distances = labels
                .iter()
                .enumerate()
                .map(|(row, &label)| distance(data.row(row), centroids.row(label)))
                .collect();
            best = Some(Segmentation {
                k,
                silhouette: score,
                silhouettes: Vec::new(),
                labels,
                distances,
                centroids,
            });
        }
    }
    let mut chosen = best.ok_or(MlError::BadKRange {
        min: k_min,
        max: k_max,
    })?;
    chosen.silhouettes = silhouettes;
    Ok(chosen)
}

/// Centres fitted on `fit_rows`, and the nearest centre of every row of `data`.
fn kmeans(
    fit_rows: &Array2<f64>,
    data: &Array2<f64>,
    k: usize,
    config: &SegmentationConfig,
) -> Result<(Vec<usize>, Array2<f64>), MlError> {
    let rng = Xoshiro256Plus::seed_from_u64(config.seed);
    let dataset = DatasetBase::from(fit_rows.clone());
    let model = KMeans::params_with_rng(k, rng)
        .n_runs(config.n_runs.max(1))
        .max_n_iterations(300)
        .tolerance(1e-4)
        .fit(&dataset)
        .map_err(|e| MlError::KMeans {
            k,
            reason: e.to_string(),
        })?;
    let labels: Array1<usize> = model.predict(data);
    Ok((labels.to_vec(), model.centroids().clone()))
}

/// Mean silhouette of a labelling over every row: for each row, `(b - a) / max(a, b)` where `a`
/// is its mean distance to the other rows of its cluster and `b` the smallest mean distance to
/// the rows of another cluster; a row alone in its cluster scores 0.
pub fn silhouette(data: &Array2<f64>, labels: &[usize], k: usize) -> f64 {
    let all: Vec<usize> = (0..data.nrows()).collect();
    silhouette_on(data, labels, k, &all)
}

/// The silhouette restricted to `rows` (distances among those rows only).
fn silhouette_on(data: &Array2<f64>, labels: &[usize], k: usize, rows: &[usize]) -> f64 {
    if rows.is_empty() {
        return 0.0;
    }
    let mut total = 0.0;
    for &i in rows {
        let mut sums = vec![0.0; k];
        let mut counts = vec![0usize; k];
        for &j in rows {
            if i != j {
                sums[labels[j]] += distance(data.row(i), data.row(j));
                counts[labels[j]] += 1;
            }
        }
        let own = labels[i];
        if counts[own] == 0 {
            continue; // alone in its cluster: 0
        }
        let a = sums[own] / counts[own] as f64;
        let b = (0..k)
            .filter(|&c| c != own && counts[c] > 0)
            .map(|c| sums[c] / counts[c] as f64)
            .fold(f64::INFINITY, f64::min);
        if b.is_finite() {
            let scale = a.max(b);
            if scale > 0.0 {
                total += (b - a) / scale;
            }
        }
    }
    total / rows.len() as f64
}

/// `n` evenly spaced row indices out of `rows` (all of them when `rows <= n`).
fn sample_rows(rows: usize, n: usize) -> Vec<usize> {
    if rows <= n || n == 0 {
        return (0..rows).collect();
    }
    (0..n).map(|i| i * rows / n).collect()
}

fn distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn silhouette_of_two_pairs_on_a_line_is_worked_by_hand() {
        // Points 0 and 1 in cluster 0, 10 and 11 in cluster 1.
        // Point 0: a = 1, b = (10 + 11) / 2 = 10.5, s = 9.5 / 10.5; point 1: a = 1, b = 9.5,
        // s = 8.5 / 9.5; points 10 and 11 mirror them.
        let data = array![[0.0], [1.0], [10.0], [11.0]];
        let expected = (2.0 * (9.5 / 10.5) + 2.0 * (8.5 / 9.5)) / 4.0;
        let got = silhouette(&data, &[0, 0, 1, 1], 2);
        assert!((got - expected).abs() < 1e-12, "{got} vs {expected}");
    }

    #[test]
    fn log_standardise_centres_and_scales_after_the_log() {
        let raw = array![[0.0, 5.0], [(1f64).exp() - 1.0, 5.0]];
        let Standardised { data, means, stds } = log_standardise(&raw).expect("finite");
        // Column 0 after ln(1 + x): 0 and 1 → mean 0.5, std 0.5 → -1 and 1.
        assert!((data[[0, 0]] + 1.0).abs() < 1e-12 && (data[[1, 0]] - 1.0).abs() < 1e-12);
        assert!((means[0] - 0.5).abs() < 1e-12 && (stds[0] - 0.5).abs() < 1e-12);
        // A constant column becomes 0, not NaN.
        assert_eq!(data[[0, 1]], 0.0);
        assert_eq!(stds[1], 0.0);
        let bad = array![[f64::NAN]];
        assert!(matches!(
            log_standardise(&bad),
            Err(MlError::NonFinite { column: 0, row: 0 })
        ));
    }

    #[test]
    fn bad_settings_are_refused() {
        let data = Array2::<f64>::zeros((5, 2));
        let config = SegmentationConfig {
            k_min: 1,
            ..SegmentationConfig::default()
        };
        assert!(matches!(
            segment(&data, &config),
            Err(MlError::BadKRange { .. })
        ));
        assert!(matches!(
            segment(&data, &SegmentationConfig::default()),
            Err(MlError::TooFewRows { rows: 5, k: 8 })
        ));
    }

    #[test]
    fn evenly_spaced_sample() {
        assert_eq!(sample_rows(10, 4), vec![0, 2, 5, 7]);
        assert_eq!(sample_rows(3, 4), vec![0, 1, 2]);
    }
}
