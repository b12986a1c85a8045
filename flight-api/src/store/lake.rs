//! The embedded store: the published Silver, Gold and ML Parquet of the lake, read with
//! DataFusion in this process (no Ballista: the API only reads, and small reads are quickest
//! here). The layer pointers are checked at most once per [`RECHECK`]; a new run of any layer is
//! loaded into a new session and swapped in whole, so one request never mixes two versions. The
//! same session answers the HTTP API (Gold and ML) and Flight SQL (Silver too).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use datafusion::common::{ScalarValue, TableReference};
use datafusion::logical_expr::{Expr, col, lit};
use datafusion::prelude::{SessionConfig, SessionContext};
use lake_core::publish::{self, LayerManifest};
use lake_core::{Lake, LakeError, Layer, catalog};
use tokio::sync::RwLock;

use super::{
    After, AnswerCache, Freshness, GoldStore, Op, Row, Snapshot, StoreError, TableQuery, Value,
};

/// Longest a served version may lag behind the lake's pointers.
pub const RECHECK: Duration = Duration::from_secs(1);

const STORE: &str = "lake";

/// One loaded version: a session with its tables registered.
pub struct Loaded {
    ctx: SessionContext,
    silver: Option<LayerManifest>,
    gold: LayerManifest,
    ml: Option<LayerManifest>,
    loaded_at: String,
    checked: Instant,
    cache: Arc<AnswerCache>,
}

pub struct LakeStore {
    lake: Lake,
    current: RwLock<Option<Arc<Loaded>>>,
}

impl LakeStore {
    pub fn new(lake: Lake) -> Self {
        Self {
            lake,
            current: RwLock::new(None),
        }
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
        let silver = publish::current(&self.lake, Layer::Silver)
            .await
            .map_err(unavailable)?;
        let run = |m: &Option<LayerManifest>| m.as_ref().map(|m| m.run_id.clone());
        let same = slot.as_ref().is_some_and(|l| {
            l.gold.run_id == gold.run_id && run(&l.ml) == run(&ml) && run(&l.silver) == run(&silver)
        });
        let next = match slot.as_ref() {
            Some(previous) if same => Loaded {
                ctx: previous.ctx.clone(),
                silver,
                gold,
                ml,
                loaded_at: previous.loaded_at.clone(),
                checked: Instant::now(),
                cache: previous.cache.clone(),
            },
            _ => self.load(silver, gold, ml).await?,
        };
        let next = Arc::new(next);
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
        let ctx = SessionContext::new_with_config(config);
        if self.lake.is_s3() {
            ctx.register_object_store(self.lake.store_url(), self.lake.store());
        }
        catalog::create_schemas(&ctx).map_err(unavailable)?;
        let layers = [
            (Layer::Silver, silver.as_ref()),
            (Layer::Gold, Some(&gold)),
            (Layer::Ml, ml.as_ref()),
        ];
        for (layer, manifest) in layers {
            let Some(manifest) = manifest else { continue };
            for (table, published) in &manifest.tables {
                catalog::register_parquet_folder(
                    &ctx,
                    TableReference::partial(layer.schema(), table.as_str()),
                    &self.lake.url(&published.path),
                )
                .await
                .map_err(unavailable)?;
            }
        }
        Ok(Loaded {
            ctx,
            silver,
            gold,
            ml,
            loaded_at: lake_core::ingest::now(),
            checked: Instant::now(),
            cache: Arc::default(),
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
    /// The session holding this version's tables: `silver.*`, `gold.*` (ML tables included).
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }
}

#[async_trait]
impl Snapshot for Loaded {
    async fn rows(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError> {
        self.cache.rows(query, self.query(query)).await
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
    /// Runs `query` with DataFusion over the version's Parquet.
    async fn query(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError> {
        let failed = |e: datafusion::error::DataFusionError| StoreError::Query {
            table: query.table.to_string(),
            reason: e.to_string(),
        };
        let name = TableReference::partial("gold", query.table);
        if !self.ctx.table_exist(name.clone()).map_err(failed)? {
            return Err(StoreError::MissingTable(query.table.to_string()));
        }
        let mut df = self.ctx.table(name).await.map_err(failed)?;
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
        let batches = df.collect().await.map_err(|e| match e {
            // A data file gone or unreadable (e.g. the S3 server stopped) is an outage.
            datafusion::error::DataFusionError::ObjectStore(_) => StoreError::Unavailable {
                store: STORE,
                reason: e.to_string(),
            },
            other => failed(other),
        })?;
        super::rows_from_batches(&batches).map_err(|reason| StoreError::Query {
            table: query.table.to_string(),
            reason,
        })
    }
}
