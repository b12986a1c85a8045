//! Machine learning on Gold features (the brief's section 6.1).
//!
//! [`segmentation`]: KMeans (linfa-clustering) on log-transformed, standardised features, with k
//! chosen on the silhouette over a range, deterministic for a seed.

pub mod error;
pub mod segmentation;

pub use error::MlError;
pub use segmentation::{
    Segmentation, SegmentationConfig, Standardised, log_standardise, segment, silhouette,
};
