//! Machine learning on Gold features (the brief's section 6.1), published back beside Gold.
//!
//! - [`features`]: client features and churn labels at a cutoff, from `gold.fact_achats` with
//!   the queries of `sql/ml/` (only purchases before the cutoff feed the features);
//! - [`segmentation`]: KMeans (linfa-clustering) on log-transformed, standardised features, k
//!   chosen on the silhouette, deterministic for a seed; [`profiles`] names the segments;
//! - [`churn`]: logistic regression (linfa-logistic), judged out of time against recency alone
//!   with the [`metrics`] ROC-AUC and PR-AUC;
//! - [`stage`]: the `lake ml` stage that runs them and publishes `gold/ml/`.

pub mod churn;
pub mod error;
pub mod features;
pub mod metrics;
pub mod profiles;
pub mod segmentation;
pub mod stage;

pub use error::MlError;
pub use segmentation::{
    Segmentation, SegmentationConfig, Standardised, log_standardise, segment, silhouette,
};
pub use stage::{MlConfig, MlSummary, NotBuilt, SegmentationSummary, run_ml};
