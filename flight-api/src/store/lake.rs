//! The embedded store: the published Silver, Gold and ML Parquet of the lake, read with
//! DataFusion in this process (no Ballista: the API only reads, and small reads are quickest
//! here). The layer pointers are checked at most once per [`RECHECK`]; a new run of any layer is
//! loaded into a new session and swapped in whole, so one request never mixes two versions.
//!
//! A version has two sessions over the same tables, each with its own memory pool
//! ([`SessionLimits`]): one answers the HTTP API (Gold and ML), the other Flight SQL's free SQL
//! (Silver too), so a heavy SQL query cannot take the memory the HTTP API needs.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::{SessionConfig, SessionContext};
use lake_core::memory::{self, MemorySettings, SpillCounter};
use lake_core::publish::{self, LayerManifest};
use lake_core::{Lake, LakeError, Layer, catalog};
use tokio::sync::{OnceCell, RwLock};

use super::purchases::{self, PurchaseIndex};
use super::{
    After, AnswerCache, Freshness, GoldStore, Op, Row, Snapshot, StoreError, TableQuery, Value,
};

/// Longest a served version may lag behind the lake's pointers.
pub const RECHECK: Duration = Duration::from_millis(500);

const STORE: &str = "lake";

/// What bounds the store's queries.
#[derive(Debug, Clone)]
pub struct SessionLimits {
    /// The pool of the HTTP API's queries, and the size of Flight SQL's own pool; where both
    /// spill.
    pub memory: MemorySettings,
    /// How long an HTTP API query may run; `None`: no limit (Flight SQL's queries are bounded by
    /// the gateway, see [`crate::server::limits`]).
    pub query_timeout: Option<Duration>,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self {
            memory: MemorySettings::default(),
            query_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// One loaded version: its sessions with their tables registered.
pub struct Loaded {
    /// The HTTP API's session.
    ctx: SessionContext,
    /// Flight SQL's session: the same tables, in a pool of its own.
    sql_ctx: SessionContext,
    query_timeout: Option<Duration>,
    silver: Option<LayerManifest>,
    gold: LayerManifest,
    ml: Option<LayerManifest>,
    loaded_at: String,
    checked: Instant,
    cache: Arc<AnswerCache>,
    /// The index of `fact_achats`, built once per version (`None`: the table cannot be
    /// indexed, DataFusion answers).
    purchases: Arc<OnceCell<Option<Arc<PurchaseIndex>>>>,
}

pub struct LakeStore {
    lake: Lake,
    current: RwLock<Option<Arc<Loaded>>>,
    http_runtime: Arc<RuntimeEnv>,
    sql_runtime: Arc<RuntimeEnv>,
    query_timeout: Option<Duration>,
}

impl LakeStore {
    /// A store of `lake`'s published layers whose sessions are bounded by `limits`; fails when
    /// the spill folder cannot be created.
    pub fn new(lake: Lake, limits: &SessionLimits) -> Result<Self, StoreError> {
        let runtime = || {
            memory::runtime_builder(&limits.memory, Arc::new(SpillCounter::default()))
                .and_then(|builder| builder.build_arc())
                .map_err(|e| StoreError::Unavailable {
                    store: STORE,
                    reason: format!("cannot set up the query memory pool: {e}"),
                })
        };
        Ok(Self {
            lake,
            current: RwLock::new(None),
            http_runtime: runtime()?,
            sql_runtime: runtime()?,
            query_timeout: limits.query_timeout,
        })
    }

    /// The version to answer from: the loaded one while it is fresh, else the lake's pointers
    /// are read again and a new version is loaded if they moved.
    async fn version(&self) -> Result<Arc<Loaded>, StoreError> {
        if let Some(loaded) = self.current.read().await.as_ref()
            && loaded.checked.elapsed() < RECHECK
        {
            return Ok(loaded.clone());
        }
        let mut slot = self.current.write().await;
        if let Some(loaded) = slot.as_ref()
            && loaded.checked.elapsed() < RECHECK
        {
            return Ok(loaded.clone());
        }
        let gold = publish::current(&self.lake, Layer::Gold)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| {
                StoreError::NotPublished(format!(
                    "no Gold in {}: run `lake run` first",
                    self.lake.root()
                ))
            })?;
        let ml = publish::current(&self.lake, Layer::Ml)
            .await
            .map_err(unavailable)?;
        let silver = publish::silver_of(&self.lake, &gold)
            .await
            .map_err(unavailable)?;
        let run = |m: &Option<LayerManifest>| m.as_ref().map(|m| m.run_id.clone());
        let same = slot.as_ref().is_some_and(|l| {
            l.gold.run_id == gold.run_id && run(&l.ml) == run(&ml) && run(&l.silver) == run(&silver)
        });
        let next = match slot.as_ref() {
            Some(previous) if same => Arc::new(Loaded {
                ctx: previous.ctx.clone(),
                sql_ctx: previous.sql_ctx.clone(),
                query_timeout: previous.query_timeout,
                silver,
                gold,
                ml,
                loaded_at: previous.loaded_at.clone(),
                checked: Instant::now(),
                cache: previous.cache.clone(),
                purchases: previous.purchases.clone(),
            }),
            _ => {
                let loaded = Arc::new(self.load(silver, gold, ml).await?);
                // Index the purchases now rather than on the first listing that needs them
                // (a failure here is retried by that listing).
                let warming = loaded.clone();
                tokio::spawn(async move {
                    if let Err(e) = warming.purchase_index().await {
                        log::warn!("indexing gold.fact_achats failed: {e}");
                    }
                });
                loaded
            }
        };
        *slot = Some(next.clone());
        Ok(next)
    }

    /// The version served now, for SQL (Flight SQL).
    pub async fn current(&self) -> Result<Arc<Loaded>, StoreError> {
        self.version().await
    }

    async fn load(
        &self,
        silver: Option<LayerManifest>,
        gold: LayerManifest,
        ml: Option<LayerManifest>,
    ) -> Result<Loaded, StoreError> {
        let config = SessionConfig::new()
            .with_target_partitions(2)
            .with_information_schema(false);
        let ctx =
            catalog::local_reader_with_runtime(&[&self.lake], config, self.http_runtime.clone());
        catalog::create_schemas(&ctx).map_err(unavailable)?;
        let layers = [
            (Layer::Silver, silver.as_ref()),
            (Layer::Gold, Some(&gold)),
            (Layer::Ml, ml.as_ref()),
        ];
        for (layer, manifest) in layers {
            let Some(manifest) = manifest else { continue };
            catalog::register_manifest(&ctx, &self.lake, layer, manifest)
                .await
                .map_err(unavailable)?;
        }
        // The catalogs are shared: the tables registered above are Flight SQL's too.
        let sql_ctx = SessionContext::new_with_state(
            SessionStateBuilder::new_from_existing(ctx.state())
                .with_runtime_env(self.sql_runtime.clone())
                .build(),
        );
        Ok(Loaded {
            ctx,
            sql_ctx,
            query_timeout: self.query_timeout,
            silver,
            gold,
            ml,
            loaded_at: lake_core::clock::now(),
            checked: Instant::now(),
            cache: Arc::default(),
            purchases: Arc::default(),
        })
    }
}

fn unavailable(e: LakeError) -> StoreError {
    StoreError::Unavailable {
        store: STORE,
        reason: e.to_string(),
    }
}

fn literal(value: &Value) -> Expr {
    match value {
        Value::Int(v) => lit(*v),
        Value::Float(v) => lit(*v),
        Value::Text(v) => lit(v.clone()),
        Value::Cents(v) => lit(ScalarValue::Decimal128(Some(*v), 12, 2)),
        Value::Date(d) => {
            let days = (*d - chrono::DateTime::UNIX_EPOCH.date_naive()).num_days();
            lit(ScalarValue::Date32(i32::try_from(days).ok()))
        }
        Value::Timestamp(t) => lit(ScalarValue::TimestampMicrosecond(
            Some(t.and_utc().timestamp_micros()),
            None,
        )),
    }
}

fn keyset(after: &After) -> Expr {
    let (column, id) = (col(after.column), col(after.id_column));
    let value = literal(&after.value);
    let last_id = lit(after.id);
    if after.descending {
        column
            .clone()
            .lt(value.clone())
            .or(column.eq(value).and(id.lt(last_id)))
    } else {
        column
            .clone()
            .gt(value.clone())
            .or(column.eq(value).and(id.gt(last_id)))
    }
}

#[async_trait]
impl GoldStore for LakeStore {
    fn name(&self) -> &'static str {
        STORE
    }

    async fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        Ok(self.version().await?)
    }
}

impl Loaded {
    /// Flight SQL's session over this version's tables: `silver.*`, `gold.*` (ML tables
    /// included), in a memory pool of its own.
    pub fn sql_session(&self) -> &SessionContext {
        &self.sql_ctx
    }

    /// The runs this version serves, by layer (`silver`, `gold`, `ml`).
    pub fn runs(&self) -> Vec<(&'static str, &str)> {
        let mut runs = vec![("gold", self.gold.run_id.as_str())];
        if let Some(silver) = &self.silver {
            runs.push(("silver", silver.run_id.as_str()));
        }
        if let Some(ml) = &self.ml {
            runs.push(("ml", ml.run_id.as_str()));
        }
        runs
    }
}

#[async_trait]
impl Snapshot for Loaded {
    async fn rows(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError> {
        if query.table == purchases::TABLE
            && let Some(index) = self.purchase_index().await?
            && let Some(page) = index.page(query)
        {
            let failed = |reason: String| StoreError::Query {
                table: super::qualified(query.table),
                reason,
            };
            let page = page.map_err(|e| failed(e.to_string()))?;
            return super::rows_from_batches(&[page]).map_err(failed);
        }
        let rows = query_rows(&self.ctx, query, self.query_timeout);
        self.cache.rows(query, rows).await
    }

    fn freshness(&self) -> Freshness {
        Freshness {
            gold_version: self.gold.run_id.clone(),
            as_of: self.gold.as_of.clone(),
            gold_published_at: self.gold.finished_at.clone(),
            loaded_at: self.loaded_at.clone(),
            ml_version: self.ml.as_ref().map(|m| m.run_id.clone()),
            store: STORE.to_string(),
        }
    }
}

impl Loaded {
    /// The index of `fact_achats` for this version, built on first use.
    async fn purchase_index(&self) -> Result<Option<Arc<PurchaseIndex>>, StoreError> {
        let index = self
            .purchases
            .get_or_try_init(|| index_purchases(&self.ctx))
            .await?;
        Ok(index.clone())
    }
}

/// Reads `gold.fact_achats` whole and indexes it (`None` when the version has no such table or
/// it cannot be indexed).
async fn index_purchases(ctx: &SessionContext) -> Result<Option<Arc<PurchaseIndex>>, StoreError> {
    let failed = |e: datafusion::error::DataFusionError| StoreError::Query {
        table: purchases::TABLE.to_string(),
        reason: e.to_string(),
    };
    let name = TableReference::partial("gold", purchases::TABLE);
    if !ctx.table_exist(name.clone()).map_err(failed)? {
        return Ok(None);
    }
    let started = Instant::now();
    let batches = ctx
        .table(name)
        .await
        .map_err(failed)?
        .collect()
        .await
        .map_err(outage_or(failed))?;
    let index = PurchaseIndex::build(&batches).map_err(failed)?;
    match &index {
        Some(index) => log::info!(
            "indexed {} rows of gold.fact_achats in {} ms",
            index.len(),
            started.elapsed().as_millis()
        ),
        None => log::info!("gold.fact_achats cannot be indexed: DataFusion answers listings"),
    }
    Ok(index.map(Arc::new))
}

/// A data file gone or unreadable (e.g. the S3 server stopped) is an outage; other errors are
/// the query's.
fn outage_or(
    failed: impl Fn(datafusion::error::DataFusionError) -> StoreError,
) -> impl Fn(datafusion::error::DataFusionError) -> StoreError {
    move |e| match e {
        datafusion::error::DataFusionError::ObjectStore(_) => StoreError::Unavailable {
            store: STORE,
            reason: e.to_string(),
        },
        other => failed(other),
    }
}

/// Runs `query` with DataFusion over the tables of `ctx`, within `timeout`.
async fn query_rows(
    ctx: &SessionContext,
    query: &TableQuery,
    timeout: Option<Duration>,
) -> Result<Vec<Row>, StoreError> {
    let failed = |e: datafusion::error::DataFusionError| StoreError::Query {
        table: super::qualified(query.table),
        reason: e.to_string(),
    };
    let (schema, table) = super::schema_and_name(query.table);
    let name = TableReference::partial(schema, table);
    if !ctx.table_exist(name.clone()).map_err(failed)? {
        return Err(StoreError::MissingTable(super::qualified(query.table)));
    }
    let mut df = ctx.table(name).await.map_err(failed)?;
    for f in &query.filters {
        let (column, value) = (col(f.column), literal(&f.value));
        let predicate = match f.op {
            Op::Eq => column.eq(value),
            Op::Gte => column.gt_eq(value),
            Op::Lt => column.lt(value),
        };
        df = df.filter(predicate).map_err(failed)?;
    }
    if let Some(after) = &query.after {
        df = df.filter(keyset(after)).map_err(failed)?;
    }
    if !query.order.is_empty() {
        let sort = query
            .order
            .iter()
            .map(|o| col(o.column).sort(!o.descending, false))
            .collect();
        df = df.sort(sort).map_err(failed)?;
    }
    if query.offset > 0 || query.limit.is_some() {
        df = df.limit(query.offset, query.limit).map_err(failed)?;
    }
    let collect = df.collect();
    let batches = match timeout {
        None => collect.await,
        Some(timeout) => {
            tokio::time::timeout(timeout, collect)
                .await
                .map_err(|_| StoreError::Query {
                    table: super::qualified(query.table),
                    reason: format!(
                        "cancelled past --query-timeout (LAKE_API_QUERY_TIMEOUT, {} s)",
                        timeout.as_secs_f64()
                    ),
                })?
        }
    }
    .map_err(outage_or(failed))?;
    super::rows_from_batches(&batches).map_err(|reason| StoreError::Query {
        table: super::qualified(query.table),
        reason,
    })
}

#[cfg(test)]
mod tests {
    //! The index of `fact_achats` must answer every listing exactly as DataFusion does: same
    //! rows, same order, same pages. DataFusion is the reference here, on a synthetic table
    //! with many ties on both sort keys, NULL countries, and lists on both sides of
    //! `SORT_ON_THE_SPOT`.

    use std::sync::Arc;

    use chrono::{NaiveDate, NaiveDateTime};
    use datafusion::arrow::array::{
        Decimal128Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
    };
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::datasource::MemTable;

    use super::*;
    use crate::api::params::{parse_cents, parse_timestamp};

    const ROWS: u64 = 12_000;

    fn start() -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2025, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a valid date")
    }

    /// Purchases with ids in no particular order, 400 distinct hours, 250 distinct amounts,
    /// 2 countries of about 5 800 rows each and some NULL, 40 products, 300 clients.
    fn purchases() -> Vec<RecordBatch> {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id_achat", DataType::Int64, true),
            Field::new("id_client", DataType::Int64, true),
            Field::new(
                "date_achat",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("montant", DataType::Decimal128(12, 2), true),
            Field::new("produit", DataType::Utf8, true),
            Field::new("pays", DataType::Utf8, true),
        ]));
        let hour = 3_600_000_000_i64;
        let base = start().and_utc().timestamp_micros();
        // Three batches, so the index concatenates them.
        (0..3)
            .map(|part| {
                let rows: Vec<u64> = (0..ROWS).filter(|r| r % 3 == part).collect();
                let mix = |r: u64, m: u64| (r.wrapping_mul(2_654_435_761) >> 7) % m;
                let columns: Vec<Arc<dyn datafusion::arrow::array::Array>> = vec![
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|&r| ((r * 7_919) % ROWS) as i64 + 1),
                    )),
                    Arc::new(Int64Array::from_iter_values(
                        rows.iter().map(|&r| mix(r, 300) as i64 + 1),
                    )),
                    Arc::new(TimestampMicrosecondArray::from_iter_values(
                        rows.iter().map(|&r| base + mix(r + 11, 400) as i64 * hour),
                    )),
                    Arc::new(
                        Decimal128Array::from_iter_values(
                            rows.iter().map(|&r| (mix(r + 5, 250) as i128 + 1) * 199),
                        )
                        .with_precision_and_scale(12, 2)
                        .expect("valid decimal"),
                    ),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|&r| format!("Produit {}", mix(r + 3, 40))),
                    )),
                    Arc::new(StringArray::from_iter(rows.iter().map(|&r| match r % 29 {
                        0 => None,
                        n if n % 2 == 0 => Some("France"),
                        _ => Some("Belgique"),
                    }))),
                ];
                RecordBatch::try_new(schema.clone(), columns).expect("a valid batch")
            })
            .collect()
    }

    fn session(batches: Vec<RecordBatch>) -> SessionContext {
        let ctx = SessionContext::new();
        catalog::create_schemas(&ctx).expect("schemas");
        let table = MemTable::try_new(batches[0].schema(), vec![batches]).expect("table");
        ctx.register_table(
            TableReference::partial("gold", purchases::TABLE),
            Arc::new(table),
        )
        .expect("registered");
        ctx
    }

    /// The cursor the API makes of a page's last row.
    fn after(row: &Row, sort: &'static str, descending: bool) -> After {
        let text = match &row[sort] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let value = match sort {
            "montant" => Value::Cents(parse_cents(&text).expect("an amount")),
            _ => Value::Timestamp(parse_timestamp(&text).expect("a timestamp")),
        };
        After {
            column: sort,
            value,
            id_column: "id_achat",
            id: row["id_achat"].as_i64().expect("an id"),
            descending,
        }
    }

    fn listing(
        filters: &[(&'static str, Op, Value)],
        sort: &'static str,
        desc: bool,
    ) -> TableQuery {
        let mut query = TableQuery::table(purchases::TABLE);
        for (column, op, value) in filters {
            query.add_filter(column, *op, value.clone());
        }
        query.order_by(sort, desc).order_by("id_achat", desc)
    }

    #[tokio::test]
    async fn the_purchase_index_pages_exactly_like_datafusion() {
        let batches = purchases();
        let ctx = session(batches.clone());
        let index = PurchaseIndex::build(&batches)
            .expect("built")
            .expect("this table can be indexed");
        let at = |hours: i64| Value::Timestamp(start() + chrono::Duration::hours(hours));
        let text = |s: &str| Value::Text(s.to_string());
        let filter_sets: Vec<Vec<(&'static str, Op, Value)>> = vec![
            vec![],
            vec![("id_client", Op::Eq, Value::Int(17))],
            vec![("id_client", Op::Eq, Value::Int(100_000))],
            vec![("pays", Op::Eq, text("France"))],
            vec![("pays", Op::Eq, text("Nulle part"))],
            vec![("produit", Op::Eq, text("Produit 7"))],
            vec![
                ("pays", Op::Eq, text("Belgique")),
                ("produit", Op::Eq, text("Produit 3")),
            ],
            vec![
                ("date_achat", Op::Gte, at(100)),
                ("date_achat", Op::Lt, at(130)),
            ],
            vec![
                ("pays", Op::Eq, text("France")),
                ("date_achat", Op::Gte, at(390)),
            ],
            vec![
                ("id_client", Op::Eq, Value::Int(42)),
                ("date_achat", Op::Lt, at(200)),
            ],
        ];
        let mut pages_compared = 0;
        for filters in &filter_sets {
            for sort in ["date_achat", "montant"] {
                for descending in [true, false] {
                    for limit in [1, 37, 500] {
                        let mut query = listing(filters, sort, descending).limit(limit);
                        // The first pages, each after the last row of the one before.
                        for page in 0..4 {
                            let expected =
                                query_rows(&ctx, &query, None).await.expect("DataFusion");
                            let got = index.page(&query).expect("the index answers");
                            let got = super::super::rows_from_batches(&[got.expect("a page")])
                                .expect("rows");
                            assert_eq!(got, expected, "page {page} of {query:?}");
                            pages_compared += 1;
                            let Some(last) = expected.last() else { break };
                            query.after = Some(after(last, sort, descending));
                        }
                    }
                }
            }
            // An offset instead of a cursor, as a client's recent purchases do not need.
            let query = listing(filters, "montant", true).offset(45).limit(20);
            let expected = query_rows(&ctx, &query, None).await.expect("DataFusion");
            let got = index.page(&query).expect("answers").expect("a page");
            let got = super::super::rows_from_batches(&[got]).expect("rows");
            assert_eq!(got, expected, "{query:?}");
        }
        assert!(pages_compared > 300, "{pages_compared} pages compared");

        // A whole listing, page after page, holds every matching row once.
        let mut query = listing(&[], "montant", false).limit(500);
        let mut seen = 0;
        while let Some(page) = index.page(&query) {
            let rows = super::super::rows_from_batches(&[page.expect("a page")]).expect("rows");
            let Some(last) = rows.last() else { break };
            query.after = Some(after(last, "montant", false));
            seen += rows.len();
        }
        assert_eq!(seen as u64, ROWS);
    }

    #[tokio::test]
    async fn queries_the_index_does_not_know_are_left_to_datafusion() {
        let batches = purchases();
        let index = PurchaseIndex::build(&batches)
            .expect("built")
            .expect("indexed");
        let other_table = TableQuery::table("dim_clients").limit(3);
        let unknown_filter = TableQuery::table(purchases::TABLE)
            .filter("heure", Op::Eq, Value::Int(3))
            .order_by("date_achat", true)
            .order_by("id_achat", true);
        let mixed_directions = TableQuery::table(purchases::TABLE)
            .order_by("date_achat", true)
            .order_by("id_achat", false);
        let limit_without_order = TableQuery::table(purchases::TABLE).limit(5);
        for query in [
            other_table,
            unknown_filter,
            mixed_directions,
            limit_without_order,
        ] {
            assert!(index.page(&query).is_none(), "{query:?}");
        }
    }

    #[test]
    fn a_table_with_null_sort_keys_is_not_indexed() {
        let batches = purchases();
        let schema = batches[0].schema();
        let mut columns = batches[0].columns().to_vec();
        let mut dates: Vec<Option<i64>> = columns[2]
            .as_any()
            .downcast_ref::<TimestampMicrosecondArray>()
            .expect("timestamps")
            .iter()
            .collect();
        dates[0] = None;
        columns[2] = Arc::new(TimestampMicrosecondArray::from(dates));
        let with_null = RecordBatch::try_new(schema, columns).expect("batch");
        assert!(PurchaseIndex::build(&[with_null]).expect("built").is_none());
    }
}
