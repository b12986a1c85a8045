//! The ML stage of `lake run` (and `lake ml`): features from the published Gold, the
//! segmentation and the churn model, and their tables published under `gold/ml/` with a
//! manifest, like every layer (nothing is visible until the pointer switch).

use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use lake_core::publish::{self, InputRef, LayerManifest, RunBuilder, RunRecord};
use lake_core::{LakeError, LakeSession, Layer, catalog};

use crate::churn::{ChurnModel, Evaluation, RISK_BANDS, evaluate, risk_band};
use crate::error::MlError;
use crate::features::{ClientFeatures, FEATURES, FeatureSource, SEGMENT_FEATURES};
use crate::profiles::{SegmentProfile, profiles};
use crate::segmentation::{SegmentationConfig, log_standardise, segment};

/// What the stage trains with.
#[derive(Debug, Clone)]
pub struct MlConfig {
    /// Churn horizon H: churned = no purchase in the H days after a cutoff.
    pub horizon_days: u32,
    pub segmentation: SegmentationConfig,
}

impl Default for MlConfig {
    fn default() -> Self {
        Self {
            horizon_days: 90,
            segmentation: SegmentationConfig::default(),
        }
    }
}

/// The three cutoffs of the churn model: trained at `train` (labels from the H days after
/// it), judged out of time at `evaluation` = train + H, refitted there, and applied at `score`
/// = ref_date to every current buyer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cutoffs {
    pub train: NaiveDateTime,
    pub evaluation: NaiveDateTime,
    pub score: NaiveDateTime,
}

impl Cutoffs {
    pub fn before(ref_date: NaiveDate, horizon_days: u32) -> Self {
        let score = ref_date.and_time(NaiveTime::MIN);
        let h = chrono::Duration::days(i64::from(horizon_days));
        Self {
            train: score - h - h,
            evaluation: score - h,
            score,
        }
    }
}

/// How the churn model did out of time.
#[derive(Debug, Clone, PartialEq)]
pub struct ChurnReport {
    pub cutoffs: Cutoffs,
    pub train_clients: usize,
    pub evaluation_clients: usize,
    pub model: Evaluation,
    /// The recency-only score (days since the last purchase) on the same clients.
    pub baseline: Evaluation,
    /// Weights of the model that scored the buyers (refitted at the evaluation cutoff).
    pub weights: Vec<(String, f64)>,
    pub intercept: f64,
    /// Seconds to fit both models.
    pub train_seconds: f64,
}

/// The segmentation the stage chose.
#[derive(Debug, Clone)]
pub struct SegmentationSummary {
    pub k: usize,
    pub silhouette: f64,
    pub silhouettes: Vec<(usize, f64)>,
    pub segments: Vec<SegmentProfile>,
    pub seconds: f64,
}

/// Why a model was not built: in English for the command line, in French for the report that
/// the dashboard shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotBuilt {
    pub reason: String,
    pub raison: String,
}

impl std::fmt::Display for NotBuilt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What the stage found, for the summary line and the report table.
#[derive(Debug, Clone)]
pub struct MlSummary {
    /// The day after the last purchase; `None` when Gold has no purchase.
    pub ref_date: Option<NaiveDate>,
    pub buyers: usize,
    /// `Err(reason)` when there are too few buyers to segment (fewer than two per segment of
    /// the smallest k): the segment tables are published empty.
    pub segmentation: Result<SegmentationSummary, NotBuilt>,
    /// `Err(reason)` when the data cannot train a churn model (too short a history).
    pub churn: Result<ChurnReport, NotBuilt>,
}

/// Runs the stage on the session's published Gold and publishes `gold/ml/`.
pub async fn run_ml(
    session: &LakeSession,
    config: &MlConfig,
    mut on_step: impl FnMut(&str),
) -> Result<(LayerManifest, MlSummary), MlError> {
    // Started now, so the manifest's started_at covers the training too.
    let mut run = RunBuilder::start(&session.lake, Layer::Ml).await?;
    let gold = publish::current(&session.lake, Layer::Gold)
        .await?
        .ok_or_else(|| LakeError::NotPublished {
            layer: "gold".into(),
        })?;
    let source = FeatureSource {
        ctx: &session.ctx,
        project: &session.project,
        job_timeout: session.job_timeout,
    };
    on_step("features at ref_date");
    let ref_date = source.ref_date().await?;
    let cutoffs = ref_date.map(|d| Cutoffs::before(d, config.horizon_days));
    let current = match &cutoffs {
        Some(c) => source.features(c.score).await?,
        None => ClientFeatures::empty(),
    };

    on_step("segmentation (KMeans, k by silhouette)");
    let clock = Instant::now();
    let mut seg_config = config.segmentation.clone();
    // At least two buyers per segment on average: fewer buyers narrow the range of k, and too
    // few for the smallest k leave the segment tables empty, with the reason in the report.
    seg_config.k_max = seg_config.k_max.min(current.ids.len() / 2);
    let (segmentation, labels) = if seg_config.k_max < seg_config.k_min {
        let buyers = current.ids.len();
        (
            Err(NotBuilt {
                reason: MlError::TooFewRows {
                    rows: buyers,
                    k: seg_config.k_min,
                }
                .to_string(),
                raison: format!(
                    "trop peu d'acheteurs ({buyers}) pour {} segments d'au moins deux acheteurs",
                    seg_config.k_min
                ),
            }),
            SegmentLabels::default(),
        )
    } else {
        let transform = log_standardise(&current.leading(SEGMENT_FEATURES))?;
        let fitted = segment(&transform.data, &seg_config)?;
        let (segments, number_of) = profiles(&fitted, &transform);
        let mut by_number = segments.clone();
        by_number.sort_by_key(|p| p.number);
        let labels = SegmentLabels {
            numbers: fitted.labels.iter().map(|&c| number_of[c]).collect(),
            distances: fitted.distances.clone(),
            names: by_number.iter().map(|p| p.label.clone()).collect(),
        };
        let summary = SegmentationSummary {
            k: fitted.k,
            silhouette: fitted.silhouette,
            silhouettes: fitted.silhouettes.clone(),
            segments,
            seconds: clock.elapsed().as_secs_f64(),
        };
        (Ok(summary), labels)
    };

    on_step("churn model (logistic regression, out-of-time evaluation)");
    let (churn, scores) = match &cutoffs {
        None => (
            Err(NotBuilt {
                reason: "no purchase in Gold".into(),
                raison: "aucun achat dans Gold".into(),
            }),
            Vec::new(),
        ),
        Some(cutoffs) => match churn_model(&source, cutoffs, config.horizon_days, &current).await {
            Ok((report, scores)) => (Ok(report), scores),
            Err(e @ (MlError::OneSidedLabels { .. } | MlError::TooFewRows { .. })) => (
                Err(NotBuilt {
                    reason: format!(
                        "not enough history for a churn model with a training cutoff at {} \
                         (ref_date - 2 x {} days): {e}",
                        cutoffs.train.date(),
                        config.horizon_days
                    ),
                    raison: format!(
                        "historique trop court pour un modèle de churn entraîné au {} \
                         (ref_date - 2 × {} jours) : {}",
                        cutoffs.train.date().format("%d/%m/%Y"),
                        config.horizon_days,
                        match e {
                            MlError::OneSidedLabels {
                                positives,
                                negatives,
                                needed,
                            } => format!(
                                "il faut au moins {needed} clients de chaque classe, \
                                 {positives} partis et {negatives} restés"
                            ),
                            _ => "trop peu de clients à cette date".to_string(),
                        }
                    ),
                }),
                Vec::new(),
            ),
            Err(e) => return Err(e),
        },
    };

    let summary = MlSummary {
        ref_date,
        buyers: current.ids.len(),
        segmentation,
        churn,
    };

    on_step("publishing gold/ml");
    let tables = [
        ("segments_ml", segments_ml(&current, &labels)?),
        ("segments_profils", segments_profils(&summary)?),
        ("scores_churn", scores_churn(&current, &scores)?),
        (
            "model_report",
            model_report(&summary, config, &gold.run_id, &scores)?,
        ),
    ];
    for (table, batch) in tables {
        run.write_table(&session.lake, table, batch.schema(), &[batch])
            .await?;
    }
    let mut settings = std::collections::BTreeMap::new();
    settings.insert("horizon_jours".into(), config.horizon_days.to_string());
    settings.insert("graine".into(), config.segmentation.seed.to_string());
    settings.insert(
        "k".into(),
        format!("{}..={}", seg_config.k_min, seg_config.k_max),
    );
    let record = RunRecord {
        as_of: gold.as_of.clone(),
        engine: session.engine.to_string(),
        inputs: vec![InputRef {
            name: "gold".into(),
            version: gold.run_id.clone(),
        }],
        settings,
    };
    let manifest = run.publish(&session.lake, record).await?;
    catalog::register_manifest(&session.ctx, &session.lake, Layer::Ml, &manifest).await?;
    Ok((manifest, summary))
}

/// Trains at the training cutoff, evaluates at the evaluation cutoff against recency alone,
/// refits there, and scores the current buyers (in `current`'s order).
async fn churn_model(
    source: &FeatureSource<'_>,
    cutoffs: &Cutoffs,
    horizon_days: u32,
    current: &ClientFeatures,
) -> Result<(ChurnReport, Vec<f64>), MlError> {
    let train = labelled(source, cutoffs.train, horizon_days).await?;
    let evaluation = labelled(source, cutoffs.evaluation, horizon_days).await?;
    let clock = Instant::now();
    let model = ChurnModel::fit(&train.0.values, &train.1)?;
    let predicted = model.predict(&evaluation.0.values)?;
    let recency = evaluation.0.column("recence_jours").unwrap_or_default();
    let one_sided = || MlError::OneSidedLabels {
        positives: evaluation.1.iter().filter(|c| **c).count(),
        negatives: evaluation.1.iter().filter(|c| !**c).count(),
        needed: 1,
    };
    let model_eval = evaluate(&predicted, &evaluation.1).ok_or_else(one_sided)?;
    let baseline = evaluate(&recency, &evaluation.1).ok_or_else(one_sided)?;
    let refitted = ChurnModel::fit(&evaluation.0.values, &evaluation.1)?;
    let train_seconds = clock.elapsed().as_secs_f64();
    let scores = refitted.predict(&current.values)?;
    let report = ChurnReport {
        cutoffs: *cutoffs,
        train_clients: train.1.len(),
        evaluation_clients: evaluation.1.len(),
        model: model_eval,
        baseline,
        weights: FEATURES
            .iter()
            .map(|f| f.to_string())
            .zip(refitted.weights())
            .collect(),
        intercept: refitted.intercept(),
        train_seconds,
    };
    Ok((report, scores))
}

/// Features and labels at one cutoff, checked to describe the same clients in the same order.
async fn labelled(
    source: &FeatureSource<'_>,
    cutoff: NaiveDateTime,
    horizon_days: u32,
) -> Result<(ClientFeatures, Vec<bool>), MlError> {
    let features = source.features(cutoff).await?;
    let (ids, churned) = source.churn_labels(cutoff, horizon_days).await?;
    if ids != features.ids {
        return Err(MlError::Feature {
            query: crate::features::LABELS_QUERY.into(),
            reason: format!(
                "labels at {cutoff} list {} clients, features {}: not the same clients",
                ids.len(),
                features.ids.len()
            ),
        });
    }
    Ok((features, churned))
}

fn batch(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<RecordBatch, MlError> {
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| MlError::Engine(e.into()))
}

/// Every buyer's segment (in the features' order), empty when no segmentation was fitted.
#[derive(Debug, Default)]
struct SegmentLabels {
    /// Segment number of each buyer (1 = the largest centre amount).
    numbers: Vec<i32>,
    /// Distance of each buyer to their segment's centre.
    distances: Vec<f64>,
    /// French name of segment n at index n - 1.
    names: Vec<String>,
}

fn segments_ml(current: &ClientFeatures, labels: &SegmentLabels) -> Result<RecordBatch, MlError> {
    let ids: Vec<i64> = if labels.numbers.is_empty() {
        Vec::new()
    } else {
        current.ids.clone()
    };
    let names: Vec<&str> = labels
        .numbers
        .iter()
        .map(|n| {
            usize::try_from(*n - 1)
                .ok()
                .and_then(|i| labels.names.get(i))
                .map_or("", String::as_str)
        })
        .collect();
    batch(
        vec![
            Field::new("id_client", DataType::Int64, false),
            Field::new("segment_ml", DataType::Int32, false),
            Field::new("libelle", DataType::Utf8, false),
            Field::new("distance_centre", DataType::Float64, false),
        ],
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Int32Array::from(labels.numbers.clone())),
            Arc::new(StringArray::from(names)),
            Arc::new(Float64Array::from(labels.distances.clone())),
        ],
    )
}

fn segments_profils(summary: &MlSummary) -> Result<RecordBatch, MlError> {
    let (p, silhouette): (&[SegmentProfile], f64) = match &summary.segmentation {
        Ok(s) => (&s.segments, s.silhouette),
        Err(_) => (&[], 0.0),
    };
    let centre = |j: usize| -> ArrayRef {
        Arc::new(Float64Array::from(
            p.iter().map(|s| s.centre[j]).collect::<Vec<_>>(),
        ))
    };
    let mut fields = vec![
        Field::new("segment_ml", DataType::Int32, false),
        Field::new("libelle", DataType::Utf8, false),
        Field::new("nb_clients", DataType::Int64, false),
        Field::new("part_clients", DataType::Float64, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from(
            p.iter().map(|s| s.number).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            p.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(),
        )),
        Arc::new(Int64Array::from(
            p.iter().map(|s| s.size as i64).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(
            p.iter().map(|s| s.share).collect::<Vec<_>>(),
        )),
    ];
    for (j, name) in FEATURES[..SEGMENT_FEATURES].iter().enumerate() {
        fields.push(Field::new(
            format!("centre_{name}"),
            DataType::Float64,
            false,
        ));
        columns.push(centre(j));
    }
    fields.push(Field::new("silhouette", DataType::Float64, false));
    columns.push(Arc::new(Float64Array::from(vec![silhouette; p.len()])));
    batch(fields, columns)
}

fn scores_churn(current: &ClientFeatures, scores: &[f64]) -> Result<RecordBatch, MlError> {
    let ids: Vec<i64> = if scores.is_empty() {
        Vec::new()
    } else {
        current.ids.clone()
    };
    batch(
        vec![
            Field::new("id_client", DataType::Int64, false),
            Field::new("score_churn", DataType::Float64, false),
            Field::new("risque", DataType::Utf8, false),
        ],
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(scores.to_vec())),
            Arc::new(StringArray::from(
                scores.iter().map(|s| risk_band(*s)).collect::<Vec<_>>(),
            )),
        ],
    )
}

/// One row per figure: `(modele, indicateur, valeur, texte)`.
fn model_report(
    summary: &MlSummary,
    config: &MlConfig,
    gold_run: &str,
    scores: &[f64],
) -> Result<RecordBatch, MlError> {
    let mut rows: Vec<(&str, String, Option<f64>, Option<String>)> = vec![
        (
            "donnees",
            "version_gold".into(),
            None,
            Some(gold_run.to_string()),
        ),
        (
            "donnees",
            "ref_date".into(),
            None,
            summary.ref_date.map(|d| d.to_string()),
        ),
        (
            "donnees",
            "clients_acheteurs".into(),
            Some(summary.buyers as f64),
            None,
        ),
        (
            "segmentation",
            "graine".into(),
            Some(config.segmentation.seed as f64),
            None,
        ),
        (
            "segmentation",
            "variables".into(),
            None,
            Some(FEATURES[..SEGMENT_FEATURES].join(", ")),
        ),
    ];
    match &summary.segmentation {
        Err(reason) => rows.push((
            "segmentation",
            "statut".into(),
            None,
            Some(format!("non segmenté : {}", reason.raison)),
        )),
        Ok(s) => {
            rows.extend([
                (
                    "segmentation",
                    "statut".into(),
                    None,
                    Some("segmenté".to_string()),
                ),
                ("segmentation", "k".into(), Some(s.k as f64), None),
                (
                    "segmentation",
                    "silhouette".into(),
                    Some(s.silhouette),
                    None,
                ),
                ("segmentation", "secondes".into(), Some(s.seconds), None),
            ]);
            for (k, value) in &s.silhouettes {
                rows.push((
                    "segmentation",
                    format!("silhouette_k{k}"),
                    Some(*value),
                    None,
                ));
            }
        }
    }
    rows.push((
        "churn",
        "horizon_jours".into(),
        Some(f64::from(config.horizon_days)),
        None,
    ));
    match &summary.churn {
        Err(reason) => rows.push((
            "churn",
            "statut".into(),
            None,
            Some(format!("non entraîné : {}", reason.raison)),
        )),
        Ok(r) => {
            let date = |d: NaiveDateTime| Some(d.date().to_string());
            rows.extend([
                ("churn", "statut".into(), None, Some("entraîné".to_string())),
                (
                    "churn",
                    "date_entrainement".into(),
                    None,
                    date(r.cutoffs.train),
                ),
                (
                    "churn",
                    "date_evaluation".into(),
                    None,
                    date(r.cutoffs.evaluation),
                ),
                ("churn", "date_score".into(), None, date(r.cutoffs.score)),
                (
                    "churn",
                    "clients_entrainement".into(),
                    Some(r.train_clients as f64),
                    None,
                ),
                (
                    "churn",
                    "clients_evaluation".into(),
                    Some(r.evaluation_clients as f64),
                    None,
                ),
                (
                    "churn",
                    "part_churn_evaluation".into(),
                    Some(r.model.positive_share),
                    None,
                ),
                (
                    "churn",
                    "roc_auc_modele".into(),
                    Some(r.model.roc_auc),
                    None,
                ),
                (
                    "churn",
                    "roc_auc_recence".into(),
                    Some(r.baseline.roc_auc),
                    None,
                ),
                ("churn", "pr_auc_modele".into(), Some(r.model.pr_auc), None),
                (
                    "churn",
                    "pr_auc_recence".into(),
                    Some(r.baseline.pr_auc),
                    None,
                ),
                (
                    "churn",
                    "secondes_entrainement".into(),
                    Some(r.train_seconds),
                    None,
                ),
                ("churn", "intercept".into(), Some(r.intercept), None),
            ]);
            for (feature, weight) in &r.weights {
                rows.push(("churn", format!("poids_{feature}"), Some(*weight), None));
            }
            // Buyers per risk band, for the dashboard (every band listed, even when empty).
            for band in RISK_BANDS {
                let buyers = scores.iter().filter(|s| risk_band(**s) == band).count();
                rows.push((
                    "churn",
                    format!("clients_risque_{}", band.replace('é', "e")),
                    Some(buyers as f64),
                    None,
                ));
            }
        }
    }
    batch(
        vec![
            Field::new("modele", DataType::Utf8, false),
            Field::new("indicateur", DataType::Utf8, false),
            Field::new("valeur", DataType::Float64, true),
            Field::new("texte", DataType::Utf8, true),
        ],
        vec![
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from(
                rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from(
                rows.iter().map(|r| r.3.as_deref()).collect::<Vec<_>>(),
            )),
        ],
    )
}
