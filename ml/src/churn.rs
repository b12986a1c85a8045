//! Churn model: logistic regression (linfa-logistic) on log-transformed, standardised client
//! features, trained at one cutoff and judged out of time at a later one against the
//! recency-only baseline.

use linfa::Dataset;
use linfa::traits::Fit;
use linfa_logistic::{FittedLogisticRegression, LogisticRegression};
use ndarray::{Array1, Array2};

use crate::error::MlError;
use crate::metrics::{average_precision, roc_auc};
use crate::segmentation::{Standardised, log_standardise};

/// L2 penalty of the logistic loss (summed over rows, so light for thousands of clients).
const ALPHA: f64 = 1.0;
const MAX_ITERATIONS: u64 = 200;
/// Fewest clients of each class a training set needs.
pub const MIN_PER_CLASS: usize = 10;

/// A fitted churn model: the feature transform of its training rows and the regression.
#[derive(Debug, Clone)]
pub struct ChurnModel {
    transform: Standardised,
    regression: FittedLogisticRegression<f64, bool>,
    /// linfa-logistic models the class of the first training row as its positive class;
    /// false when that was "retained", and the outputs are then turned round.
    churn_is_positive: bool,
}

impl ChurnModel {
    /// Fits `P(churn)` on raw features (one row per client) and their labels.
    pub fn fit(features: &Array2<f64>, churned: &[bool]) -> Result<Self, MlError> {
        if features.nrows() != churned.len() {
            return Err(MlError::Misaligned {
                what: "churn labels",
                expected: features.nrows(),
                found: churned.len(),
            });
        }
        let positives = churned.iter().filter(|c| **c).count();
        let negatives = churned.len() - positives;
        if positives.min(negatives) < MIN_PER_CLASS {
            return Err(MlError::OneSidedLabels {
                positives,
                negatives,
                needed: MIN_PER_CLASS,
            });
        }
        let transform = log_standardise(features)?;
        let dataset = Dataset::new(transform.data.clone(), Array1::from(churned.to_vec()));
        let regression = LogisticRegression::default()
            .alpha(ALPHA)
            .max_iterations(MAX_ITERATIONS)
            .fit(&dataset)
            .map_err(|e| MlError::Training(e.to_string()))?;
        let churn_is_positive = regression.labels().pos.class;
        Ok(Self {
            transform,
            regression,
            churn_is_positive,
        })
    }

    /// `P(churn)` of each row, in [0, 1].
    pub fn predict(&self, features: &Array2<f64>) -> Result<Vec<f64>, MlError> {
        let data = self.transform.transform(features)?;
        let p = self.regression.predict_probabilities(&data);
        Ok(if self.churn_is_positive {
            p.to_vec()
        } else {
            p.iter().map(|p| 1.0 - p).collect()
        })
    }

    fn towards_churn(&self) -> f64 {
        if self.churn_is_positive { 1.0 } else { -1.0 }
    }

    /// Weight of each feature on the standardised log scale (comparable with each other);
    /// positive pushes towards churn.
    pub fn weights(&self) -> Vec<f64> {
        self.regression
            .params()
            .iter()
            .map(|w| w * self.towards_churn())
            .collect()
    }

    /// Log-odds of churn at the mean client.
    pub fn intercept(&self) -> f64 {
        self.regression.intercept() * self.towards_churn()
    }
}

/// ROC-AUC and PR-AUC of one scoring.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    pub roc_auc: f64,
    pub pr_auc: f64,
    /// Share of positives (the PR-AUC of a random score).
    pub positive_share: f64,
}

/// Scores against labels; `None` when one class is missing.
pub fn evaluate(scores: &[f64], churned: &[bool]) -> Option<Evaluation> {
    let positives = churned.iter().filter(|c| **c).count();
    Some(Evaluation {
        roc_auc: roc_auc(scores, churned)?,
        pr_auc: average_precision(scores, churned)?,
        positive_share: positives as f64 / churned.len().max(1) as f64,
    })
}

/// The risk bands of [`risk_band`], lowest first.
pub const RISK_BANDS: [&str; 3] = ["faible", "moyen", "élevé"];

/// Risk band of a churn score, in French for the dashboard.
pub fn risk_band(score: f64) -> &'static str {
    if score >= 0.6 {
        "élevé"
    } else if score >= 0.3 {
        "moyen"
    } else {
        "faible"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_one_feature_rule_and_scores_within_bounds() {
        // Churn when the first feature (days since the last purchase) is large; the first row
        // is retained in one data set and churned in the other (linfa's positive class is the
        // first row's).
        for reversed in [false, true] {
            let mut days: Vec<i32> = (0..200).collect();
            if reversed {
                days.reverse();
            }
            let rows: Vec<f64> = days
                .iter()
                .flat_map(|&i| [f64::from(i), f64::from(i % 7)])
                .collect();
            let x = Array2::from_shape_vec((200, 2), rows).expect("shape");
            let y: Vec<bool> = days.iter().map(|&i| i >= 120).collect();
            let model = ChurnModel::fit(&x, &y).expect("fits");
            let scores = model.predict(&x).expect("scores");
            assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
            assert!(model.weights()[0] > 0.0, "reversed: {reversed}");
            let eval = evaluate(&scores, &y).expect("both classes");
            assert!(eval.roc_auc > 0.95, "reversed: {reversed}: {eval:?}");
        }
    }

    #[test]
    fn refuses_labels_without_both_classes() {
        let x = Array2::from_shape_vec((30, 1), (0..30).map(f64::from).collect()).expect("shape");
        let y = vec![false; 30];
        assert!(matches!(
            ChurnModel::fit(&x, &y),
            Err(MlError::OneSidedLabels { positives: 0, .. })
        ));
    }

    #[test]
    fn risk_bands() {
        assert_eq!(risk_band(0.1), "faible");
        assert_eq!(risk_band(0.3), "moyen");
        assert_eq!(risk_band(0.6), "élevé");
    }
}
