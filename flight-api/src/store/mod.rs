//! The serving stores behind one interface. The API asks for rows of a Gold table with simple
//! filters, an order, keyset or offset pagination and a limit; each store answers from its own
//! storage: [`lake::LakeStore`] reads the published Gold Parquet through DataFusion (the embedded
//! default), a MongoDB store reads the collections `lake mongo load` writes. The same contract
//! tests run against every store.

pub mod lake;
pub mod mongo;
pub mod purchases;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{NaiveDate, NaiveDateTime};
use lake_core::serving::ServingCatalogue;
use serde::Serialize;

/// One row as the API returns it: column name → JSON value.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// A typed value to compare a column with.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
    /// An amount in cents (DECIMAL(12, 2)).
    Cents(i128),
    Date(NaiveDate),
    Timestamp(NaiveDateTime),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Gte,
    Lt,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: &'static str,
    pub op: Op,
    pub value: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub column: &'static str,
    pub descending: bool,
}

/// Rows strictly after a position in the order `(column, id_column)`, both in the direction of
/// `descending`: keyset pagination, stable under inserts and cheap on an index.
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    pub column: &'static str,
    pub value: Value,
    pub id_column: &'static str,
    pub id: i64,
    pub descending: bool,
}

/// What the API asks a store for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TableQuery {
    /// A Gold (or ML) table name, e.g. `fact_achats`, or a Silver table qualified with its
    /// layer, e.g. `silver.quality` (see [`qualified`]).
    pub table: &'static str,
    pub filters: Vec<Filter>,
    pub after: Option<After>,
    pub order: Vec<Order>,
    pub offset: usize,
    pub limit: Option<usize>,
}

impl TableQuery {
    pub fn table(table: &'static str) -> Self {
        Self {
            table,
            ..Self::default()
        }
    }

    pub fn filter(mut self, column: &'static str, op: Op, value: Value) -> Self {
        self.add_filter(column, op, value);
        self
    }

    /// Adds a filter in place (for handlers that read parameters one by one).
    pub fn add_filter(&mut self, column: &'static str, op: Op, value: Value) {
        self.filters.push(Filter { column, op, value });
    }

    pub fn offset(mut self, offset: usize) -> Self {
        self.offset = offset;
        self
    }

    pub fn order_by(mut self, column: &'static str, descending: bool) -> Self {
        self.order.push(Order { column, descending });
        self
    }

    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = Some(limit);
        self
    }
}

/// The Gold version a store serves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freshness {
    /// Run id of the Gold layer served.
    pub gold_version: String,
    /// Reference time of that run.
    pub as_of: String,
    /// When the Gold run was published in the lake.
    pub gold_published_at: String,
    /// When this store started serving it (the load time for MongoDB).
    pub loaded_at: String,
    /// Run id of the ML tables served, if any.
    pub ml_version: Option<String>,
    /// The store: `lake` or `mongodb`.
    pub store: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached (the API answers 503 and recovers once it is back).
    #[error("the {store} store is unavailable: {reason}")]
    Unavailable { store: &'static str, reason: String },
    /// Nothing to serve yet.
    #[error("nothing is published yet: {0}")]
    NotPublished(String),
    /// A table the served version does not have (e.g. ML tables before `lake ml`); the name is
    /// qualified, e.g. `gold.scores_churn`.
    #[error("table {0} is not in the served version")]
    MissingTable(String),
    /// `table` is qualified, e.g. `gold.fact_achats`.
    #[error("query on {table} failed: {reason}")]
    Query { table: String, reason: String },
}

/// A read-only store of the published Gold.
#[async_trait]
pub trait GoldStore: Send + Sync {
    /// `lake` or `mongodb`, for `/health` and `/freshness`.
    fn name(&self) -> &'static str;

    /// The version served now. Every read of one request goes through one snapshot, so a
    /// response never mixes two versions, even when a new one is published meanwhile.
    async fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError>;
}

/// One published version of Gold, as a store serves it.
#[async_trait]
pub trait Snapshot: Send + Sync {
    /// Rows of a table, filtered, ordered and limited as asked.
    async fn rows(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError>;

    /// Which version this is.
    fn freshness(&self) -> Freshness;
}

/// `(layer schema, table)` of a [`TableQuery::table`]: `silver.quality` → (`silver`,
/// `quality`); a bare name is a Gold (or ML) table.
pub fn schema_and_name(table: &str) -> (&str, &str) {
    table.split_once('.').unwrap_or(("gold", table))
}

/// The qualified name of a [`TableQuery::table`], for messages: `gold.fact_achats`.
pub fn qualified(table: &str) -> String {
    let (schema, name) = schema_and_name(table);
    format!("{schema}.{name}")
}

/// Whether a table's answers can be kept: its model declares `serve: bounded` (sized by the
/// calendar, the catalogue, the countries or the checks, not by clients or purchases).
fn is_bounded(table: &str) -> bool {
    ServingCatalogue::embedded()
        .ok()
        .and_then(|c| c.get(table))
        .is_some_and(|t| t.is_bounded())
}

/// Most answers one version keeps (each is a few rows to a few thousand).
const CACHED_ANSWERS: usize = 1024;

/// Answers to queries on the bounded tables of one served version. A version never changes,
/// so an answer stays right as long as the version is served; a new version starts empty.
#[derive(Debug, Default)]
pub struct AnswerCache {
    answers: std::sync::Mutex<std::collections::HashMap<String, Arc<Vec<Row>>>>,
}

impl AnswerCache {
    /// The cached answer to `query`, or `compute`'s (kept when the table is bounded).
    pub async fn rows<F>(&self, query: &TableQuery, compute: F) -> Result<Vec<Row>, StoreError>
    where
        F: std::future::Future<Output = Result<Vec<Row>, StoreError>>,
    {
        if !is_bounded(query.table) {
            return compute.await;
        }
        let key = format!("{query:?}");
        if let Some(rows) = self.answers.lock().ok().and_then(|a| a.get(&key).cloned()) {
            return Ok(rows.as_ref().clone());
        }
        let rows = compute.await?;
        if let Ok(mut answers) = self.answers.lock()
            && answers.len() < CACHED_ANSWERS
        {
            answers.insert(key, Arc::new(rows.clone()));
        }
        Ok(rows)
    }
}

/// Record batches as the API's JSON rows (NULLs kept; dates and timestamps as ISO strings,
/// decimals as numbers).
pub fn rows_from_batches(
    batches: &[datafusion::arrow::array::RecordBatch],
) -> Result<Vec<Row>, String> {
    let mut buffer = Vec::new();
    {
        let mut writer = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::JsonArray>(&mut buffer);
        let refs: Vec<&datafusion::arrow::array::RecordBatch> = batches.iter().collect();
        writer.write_batches(&refs).map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?;
    }
    if buffer.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_slice(&buffer).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn one_row(n: i64) -> Vec<Row> {
        let mut row = Row::new();
        row.insert("n".into(), n.into());
        vec![row]
    }

    #[tokio::test]
    async fn bounded_tables_are_answered_once_per_query_and_others_every_time() {
        let cache = AnswerCache::default();
        let runs = AtomicUsize::new(0);
        let runs = &runs;
        // Counts the computations actually awaited.
        let compute = |n| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(one_row(n))
        };
        let kpis = TableQuery::table("kpi_globaux");
        assert_eq!(cache.rows(&kpis, compute(1)).await.ok(), Some(one_row(1)));
        // The second answer comes from memory, not from the (different) computation.
        assert_eq!(cache.rows(&kpis, compute(2)).await.ok(), Some(one_row(1)));
        let paged = TableQuery::table("kpi_globaux").limit(1);
        assert_eq!(cache.rows(&paged, compute(3)).await.ok(), Some(one_row(3)));
        let facts = TableQuery::table("fact_achats").limit(1);
        assert_eq!(cache.rows(&facts, compute(4)).await.ok(), Some(one_row(4)));
        assert_eq!(cache.rows(&facts, compute(5)).await.ok(), Some(one_row(5)));
        assert_eq!(runs.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_failed_answer_is_not_kept() {
        let cache = AnswerCache::default();
        let kpis = TableQuery::table("kpi_globaux");
        let failed = cache
            .rows(&kpis, async {
                Err(StoreError::Query {
                    table: "kpi_globaux".into(),
                    reason: "boom".into(),
                })
            })
            .await;
        assert!(failed.is_err());
        let answered = cache.rows(&kpis, async { Ok(one_row(7)) }).await;
        assert_eq!(answered.ok(), Some(one_row(7)));
    }
}
