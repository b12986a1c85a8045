//! Client features and churn labels, read from Gold through the lake's engine with the
//! parameterised queries of `sql/ml/`.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{ArrowPrimitiveType, Date32Type, Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use lake_core::models::SqlProject;
use lake_core::{LakeError, engine, pipeline};
use ndarray::Array2;

use crate::error::MlError;

/// Query of the features, relative to `sql/`.
pub const FEATURES_QUERY: &str = "ml/features_clients.sql";
/// Query of the churn labels, relative to `sql/`.
pub const LABELS_QUERY: &str = "ml/labels_churn.sql";

/// Every feature column of [`FEATURES_QUERY`], in order.
pub const FEATURES: [&str; 7] = [
    "recence_jours",
    "frequence",
    "montant",
    "panier_moyen",
    "anciennete_jours",
    "achats_90j",
    "achats_90_180j",
];
/// Features of the segmentation (the brief's RFM, basket and tenure): the first five.
pub const SEGMENT_FEATURES: usize = 5;

/// Where the queries run: an engine session with `gold.fact_achats` registered, and the SQL
/// project holding the queries.
#[derive(Clone, Copy)]
pub struct FeatureSource<'a> {
    pub ctx: &'a SessionContext,
    pub project: &'a SqlProject,
    /// Longest one query may run.
    pub job_timeout: Option<Duration>,
}

/// One row per client: the id and every column of [`FEATURES`].
#[derive(Debug, Clone, PartialEq)]
pub struct ClientFeatures {
    pub cutoff: NaiveDateTime,
    pub ids: Vec<i64>,
    pub values: Array2<f64>,
}

impl ClientFeatures {
    /// No client at all (a Gold without purchases has no cutoff to compute features at).
    pub fn empty() -> Self {
        Self {
            cutoff: NaiveDateTime::default(),
            ids: Vec::new(),
            values: Array2::zeros((0, FEATURES.len())),
        }
    }

    /// The first `n` feature columns.
    pub fn leading(&self, n: usize) -> Array2<f64> {
        self.values.slice(ndarray::s![.., ..n]).to_owned()
    }

    /// One feature column, by name.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        let j = FEATURES.iter().position(|f| *f == name)?;
        Some(self.values.column(j).to_vec())
    }
}

/// A TIMESTAMP literal for the queries.
fn timestamp(at: NaiveDateTime) -> String {
    format!("TIMESTAMP '{}'", at.format("%Y-%m-%d %H:%M:%S"))
}

impl FeatureSource<'_> {
    async fn run(
        &self,
        query: &str,
        vars: BTreeMap<String, String>,
        job: &str,
    ) -> Result<Vec<RecordBatch>, MlError> {
        let sql = self.project.render_query(query, &vars)?;
        engine::name_next_jobs(self.ctx, job);
        let work = async {
            let df = self
                .ctx
                .sql(&sql)
                .await
                .map_err(|e| LakeError::model(format!("sql/{query}"), e))?;
            df.collect()
                .await
                .map_err(|e| LakeError::model(format!("sql/{query}"), e))
        };
        Ok(pipeline::bounded(self.job_timeout, job, work).await?)
    }

    /// `ref_date` of the published Gold (the day after the last purchase); `None` when Gold has
    /// no purchase.
    pub async fn ref_date(&self) -> Result<Option<NaiveDate>, MlError> {
        let sql = "SELECT ref_date FROM gold.kpi_globaux";
        engine::name_next_jobs(self.ctx, "lake ml.ref_date");
        let batches = self.ctx.sql(sql).await?.collect().await?;
        let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(None);
        };
        let column = batch
            .column(0)
            .as_primitive_opt::<Date32Type>()
            .ok_or_else(|| MlError::Column {
                query: sql.into(),
                column: "ref_date".into(),
                expected: "DATE",
            })?;
        if column.is_null(0) {
            return Ok(None);
        }
        Ok(column.value_as_date(0))
    }

    /// Features of every client who bought before `cutoff`, from those purchases only.
    pub async fn features(&self, cutoff: NaiveDateTime) -> Result<ClientFeatures, MlError> {
        let vars = BTreeMap::from([("cutoff".to_string(), timestamp(cutoff))]);
        let batches = self.run(FEATURES_QUERY, vars, "lake ml.features").await?;
        let ids = int64_column(&batches, FEATURES_QUERY, "id_client")?;
        let mut values = Array2::zeros((ids.len(), FEATURES.len()));
        for (j, name) in FEATURES.iter().enumerate() {
            let column = float64_column(&batches, FEATURES_QUERY, name)?;
            values.column_mut(j).assign(&ndarray::Array1::from(column));
        }
        Ok(ClientFeatures {
            cutoff,
            ids,
            values,
        })
    }

    /// Whether each client who bought before `cutoff` made no purchase in the `horizon_days`
    /// after it, in the order of [`FeatureSource::features`].
    pub async fn churn_labels(
        &self,
        cutoff: NaiveDateTime,
        horizon_days: u32,
    ) -> Result<(Vec<i64>, Vec<bool>), MlError> {
        let horizon_end = cutoff + chrono::Duration::days(i64::from(horizon_days));
        let vars = BTreeMap::from([
            ("cutoff".to_string(), timestamp(cutoff)),
            ("horizon_end".to_string(), timestamp(horizon_end)),
        ]);
        let batches = self.run(LABELS_QUERY, vars, "lake ml.labels").await?;
        let ids = int64_column(&batches, LABELS_QUERY, "id_client")?;
        let mut churned = Vec::with_capacity(ids.len());
        for batch in &batches {
            let column = batch
                .column_by_name("churn")
                .and_then(|c| c.as_boolean_opt())
                .ok_or_else(|| column_error(LABELS_QUERY, "churn", "BOOLEAN"))?;
            if column.null_count() > 0 {
                return Err(null_error(LABELS_QUERY, "churn"));
            }
            churned.extend(column.iter().map(|v| v.unwrap_or(false)));
        }
        Ok((ids, churned))
    }
}

fn column_error(query: &str, column: &str, expected: &'static str) -> MlError {
    MlError::Column {
        query: format!("sql/{query}"),
        column: column.into(),
        expected,
    }
}

fn null_error(query: &str, column: &str) -> MlError {
    MlError::Feature {
        query: format!("sql/{query}"),
        reason: format!("column {column} holds NULLs"),
    }
}

fn int64_column(batches: &[RecordBatch], query: &str, name: &str) -> Result<Vec<i64>, MlError> {
    primitive_column::<Int64Type>(batches, query, name, "BIGINT")
}

fn float64_column(batches: &[RecordBatch], query: &str, name: &str) -> Result<Vec<f64>, MlError> {
    primitive_column::<Float64Type>(batches, query, name, "DOUBLE")
}

/// Every value of a non-null column of type `T` across the batches.
fn primitive_column<T: ArrowPrimitiveType>(
    batches: &[RecordBatch],
    query: &str,
    name: &str,
    sql_type: &'static str,
) -> Result<Vec<T::Native>, MlError> {
    let mut out = Vec::new();
    for batch in batches {
        let column = batch
            .column_by_name(name)
            .and_then(|c| c.as_primitive_opt::<T>())
            .ok_or_else(|| column_error(query, name, sql_type))?;
        if column.null_count() > 0 {
            return Err(null_error(query, name));
        }
        out.extend(column.values().iter().copied());
    }
    Ok(out)
}
