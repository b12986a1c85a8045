//! `lake ml`: the segmentation and the churn model on the published Gold.

use std::time::Instant;

use anyhow::{Context, Result};
use lake_core::{LakeSession, Layer};
use serde_json::json;

use super::layers::layer_section;
use crate::args::MlArgs;
use crate::exit::usage;
use crate::progress::group_digits;
use crate::report::{self, say};

/// Whether the published ML run was trained on the current Gold with these settings.
pub(crate) async fn ml_up_to_date(session: &LakeSession, args: &MlArgs) -> Result<bool> {
    let (Some(gold), Some(ml)) = (
        lake_core::publish::current(&session.lake, Layer::Gold).await?,
        lake_core::publish::current(&session.lake, Layer::Ml).await?,
    ) else {
        return Ok(false);
    };
    let setting = |name: &str| ml.settings.get(name).cloned().unwrap_or_default();
    Ok(
        ml.inputs.first().map(|i| i.version.as_str()) == Some(gold.run_id.as_str())
            && setting("horizon_jours") == args.horizon_days.to_string()
            && setting("graine") == args.ml_seed.to_string()
            && setting("k") == format!("{}..={}", args.k_min, args.k_max),
    )
}

/// Fails with a usage error when the range of k is empty (checked before the lease is taken).
pub(crate) fn check_k(args: &MlArgs) -> Result<()> {
    if args.k_min > args.k_max {
        usage!(
            "--k-min {} is above --k-max {}: give a range such as --k-min 3 --k-max 8",
            args.k_min,
            args.k_max
        );
    }
    Ok(())
}

/// Trains the segmentation and the churn model on the published Gold and publishes gold/ml/.
pub(crate) async fn ml(session: &LakeSession, args: &MlArgs) -> Result<()> {
    check_k(args)?;
    let config = lake_ml::MlConfig {
        horizon_days: args.horizon_days,
        segmentation: lake_ml::SegmentationConfig {
            k_min: usize::from(args.k_min),
            k_max: usize::from(args.k_max),
            seed: args.ml_seed,
            ..Default::default()
        },
    };
    let clock = Instant::now();
    let (manifest, summary) = lake_ml::run_ml(session, &config, |step| {
        eprintln!("  ml: {step}…");
    })
    .await
    .context("the ML stage failed; the previously published gold/ml/ is unchanged")?;
    let ref_date = summary
        .ref_date
        .map_or_else(|| "none (no purchase)".to_string(), |d| d.to_string());
    match &summary.segmentation {
        Ok(segmentation) => {
            let tried: Vec<String> = segmentation
                .silhouettes
                .iter()
                .map(|(k, s)| format!("k={k}: {s:.3}"))
                .collect();
            say!(
                "ml: {} buyers at ref_date {ref_date}; segmentation k = {} (silhouette {:.3}; {})",
                group_digits(summary.buyers as u64),
                segmentation.k,
                segmentation.silhouette,
                tried.join(", ")
            );
            for s in &segmentation.segments {
                say!(
                    "  segment {} {:<40} {:>8} clients ({:>5.1} %)",
                    s.number,
                    s.label,
                    group_digits(s.size as u64),
                    s.share * 100.0
                );
            }
        }
        Err(reason) => say!(
            "ml: {} buyers at ref_date {ref_date}; no segmentation: {reason}",
            group_digits(summary.buyers as u64)
        ),
    }
    match &summary.churn {
        Ok(r) => say!(
            "ml: churn (H = {} days) trained at {} on {} buyers, judged at {} on {}: \
             ROC-AUC {:.3} (recency alone {:.3}), PR-AUC {:.3} (recency alone {:.3}, \
             churn share {:.3}); fitted in {:.2} s",
            config.horizon_days,
            r.cutoffs.train.date(),
            group_digits(r.train_clients as u64),
            r.cutoffs.evaluation.date(),
            group_digits(r.evaluation_clients as u64),
            r.model.roc_auc,
            r.baseline.roc_auc,
            r.model.pr_auc,
            r.baseline.pr_auc,
            r.model.positive_share,
            r.train_seconds
        ),
        Err(reason) => say!("ml: no churn scores: {reason}"),
    }
    let mut section = layer_section(&manifest, "published", clock.elapsed().as_secs_f64());
    section["buyers"] = json!(summary.buyers);
    section["segmentation"] = match &summary.segmentation {
        Ok(s) => json!({
            "k": s.k,
            "silhouette": s.silhouette,
            "segments": s.segments.iter().map(|seg| json!({
                "number": seg.number, "label": seg.label, "size": seg.size, "share": seg.share,
            })).collect::<Vec<_>>(),
        }),
        Err(reason) => json!({ "error": reason.to_string() }),
    };
    section["churn"] = match &summary.churn {
        Ok(r) => json!({
            "horizon_days": config.horizon_days,
            "roc_auc": r.model.roc_auc,
            "pr_auc": r.model.pr_auc,
            "baseline_roc_auc": r.baseline.roc_auc,
            "baseline_pr_auc": r.baseline.pr_auc,
            "train_clients": r.train_clients,
            "evaluation_clients": r.evaluation_clients,
        }),
        Err(reason) => json!({ "error": reason.to_string() }),
    };
    report::section("ml", section);
    say!(
        "ml: published run {} (from gold run {}) in {:.2} s",
        manifest.run_id,
        manifest.inputs.first().map_or("?", |i| i.version.as_str()),
        clock.elapsed().as_secs_f64()
    );
    Ok(())
}
