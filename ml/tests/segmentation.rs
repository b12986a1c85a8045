//! KMeans segmentation recovers planted, well-separated clusters, and is deterministic.

use lake_ml::{SegmentationConfig, segment};
use ndarray::Array2;
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};

/// Four Gaussian blobs in five dimensions, centres 10 apart, unit spread; returns the rows and
/// the blob each row was drawn from.
fn planted_blobs(per_blob: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let centres = [
        [0.0, 0.0, 0.0, 0.0, 0.0],
        [10.0, 0.0, 10.0, 0.0, 0.0],
        [0.0, 10.0, 0.0, 10.0, 0.0],
        [10.0, 10.0, 0.0, 0.0, 10.0],
    ];
    let mut rng = Xoshiro256Plus::seed_from_u64(seed);
    let mut uniform = move || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let mut rows = Vec::new();
    let mut truth = Vec::new();
    for (blob, centre) in centres.iter().enumerate() {
        for _ in 0..per_blob {
            for c in centre {
                // Box–Muller: a standard normal from two uniforms.
                let (u1, u2) = (uniform(), uniform());
                let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                rows.push(c + normal);
            }
            truth.push(blob);
        }
    }
    let data = Array2::from_shape_vec((truth.len(), centres[0].len()), rows).expect("shape");
    (data, truth)
}

/// Adjusted Rand index of two labellings (1: identical partitions, ~0: chance agreement).
fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len();
    let (ka, kb) = (
        a.iter().max().map_or(0, |m| m + 1),
        b.iter().max().map_or(0, |m| m + 1),
    );
    let mut table = vec![vec![0u64; kb]; ka];
    for (&x, &y) in a.iter().zip(b) {
        table[x][y] += 1;
    }
    let pairs = |m: u64| (m * m.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().flatten().map(|&m| pairs(m)).sum();
    let rows: f64 = table.iter().map(|r| pairs(r.iter().sum())).sum();
    let columns: f64 = (0..kb)
        .map(|j| pairs(table.iter().map(|r| r[j]).sum()))
        .sum();
    let expected = rows * columns / pairs(n as u64);
    let max = (rows + columns) / 2.0;
    (index - expected) / (max - expected)
}

#[test]
fn recovers_planted_clusters_and_is_deterministic() {
    let (data, truth) = planted_blobs(150, 7);
    let config = SegmentationConfig::default(); // k from 3 to 8, seed 42
    let first = segment(&data, &config).expect("segments");
    assert_eq!(first.k, 4, "silhouettes: {:?}", first.silhouettes);
    let ari = adjusted_rand_index(&first.labels, &truth);
    assert!(ari >= 0.9, "adjusted Rand index {ari}");
    assert!(first.silhouette > 0.5, "silhouette {}", first.silhouette);
    assert_eq!(first.silhouettes.len(), 6);
    assert_eq!(first.distances.len(), data.nrows());

    let second = segment(&data, &config).expect("segments");
    assert_eq!(first, second, "two runs with the same seed agree");
}

#[test]
fn adjusted_rand_index_is_worked_by_hand() {
    // Identical partitions up to renaming: 1.
    assert!((adjusted_rand_index(&[0, 0, 1, 1], &[1, 1, 0, 0]) - 1.0).abs() < 1e-12);
    // a = {0,1},{2,3}; b = {0,2},{1,3}: no pair agrees; index 0, rows 2, columns 2, all pairs 6,
    // expected 2·2/6 = 2/3, max 2: ARI = (0 − 2/3) / (2 − 2/3) = −0.5.
    assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) + 0.5).abs() < 1e-12);
}
