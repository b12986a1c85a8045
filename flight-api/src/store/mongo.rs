//! The MongoDB store: the collections `lake mongo load` wrote, resolved through the pointer
//! document once per request (re-read at most once per [`RECHECK`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Bson, Document, doc};
use tokio::sync::RwLock;

use super::{
    After, AnswerCache, Freshness, GoldStore, Op, Row, Snapshot, StoreError, TableQuery, Value,
};
use crate::mongo::layout::{POINTER_COLLECTION, POINTER_ID, Pointer, pointer_key};

/// Longest a served version may lag behind the pointer document.
pub const RECHECK: Duration = Duration::from_millis(200);

const STORE: &str = "mongodb";

pub struct MongoStore {
    db: Database,
    current: RwLock<Option<(Arc<MongoSnapshot>, Instant)>>,
}

pub struct MongoSnapshot {
    db: Database,
    pointer: Pointer,
    cache: AnswerCache,
}

fn unavailable(e: mongodb::error::Error) -> StoreError {
    StoreError::Unavailable {
        store: STORE,
        reason: e.to_string(),
    }
}

impl MongoStore {
    pub fn new(db: Database) -> Self {
        Self {
            db,
            current: RwLock::new(None),
        }
    }

    async fn read_pointer(&self) -> Result<Pointer, StoreError> {
        let found = self
            .db
            .collection::<Pointer>(POINTER_COLLECTION)
            .find_one(doc! { "_id": POINTER_ID })
            .await
            .map_err(unavailable)?;
        found.ok_or_else(|| {
            StoreError::NotPublished(format!(
                "MongoDB database {} has no loaded version: run `lake mongo load`",
                self.db.name()
            ))
        })
    }
}

#[async_trait]
impl GoldStore for MongoStore {
    fn name(&self) -> &'static str {
        STORE
    }

    async fn snapshot(&self) -> Result<Arc<dyn Snapshot>, StoreError> {
        if let Some((snapshot, checked)) = self.current.read().await.as_ref()
            && checked.elapsed() < RECHECK
        {
            return Ok(snapshot.clone());
        }
        let pointer = self.read_pointer().await?;
        // The same version keeps its snapshot, and so its cached answers.
        let previous = self.current.read().await.as_ref().map(|(s, _)| s.clone());
        let snapshot = match previous {
            Some(previous) if previous.pointer == pointer => previous,
            _ => Arc::new(MongoSnapshot {
                db: self.db.clone(),
                pointer,
                cache: AnswerCache::default(),
            }),
        };
        *self.current.write().await = Some((snapshot.clone(), Instant::now()));
        Ok(snapshot)
    }
}

fn bson(value: &Value) -> Bson {
    match value {
        Value::Int(v) => Bson::Int64(*v),
        Value::Float(v) => Bson::Double(*v),
        Value::Text(v) => Bson::String(v.clone()),
        // Money is stored as doubles (JSON numbers); two decimals are exact enough to compare.
        Value::Cents(c) => Bson::Double(*c as f64 / 100.0),
        Value::Date(d) => Bson::String(d.format("%Y-%m-%d").to_string()),
        Value::Timestamp(t) => Bson::String(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
    }
}

/// The find filter of a query.
fn filter(query: &TableQuery) -> Document {
    let mut clauses: Vec<Document> = query
        .filters
        .iter()
        .map(|f| {
            let value = bson(&f.value);
            match f.op {
                Op::Eq => doc! { f.column: value },
                Op::Gte => doc! { f.column: { "$gte": value } },
                Op::Lt => doc! { f.column: { "$lt": value } },
            }
        })
        .collect();
    if let Some(After {
        column,
        value,
        id_column,
        id,
        descending,
    }) = &query.after
    {
        let op = if *descending { "$lt" } else { "$gt" };
        let value = bson(value);
        clauses.push(doc! { "$or": [
            { *column: { op: value.clone() } },
            { *column: value, *id_column: { op: *id } },
        ]});
    }
    match clauses.len() {
        0 => Document::new(),
        1 => clauses.remove(0),
        _ => doc! { "$and": clauses },
    }
}

fn to_row(document: Document) -> Row {
    match Bson::Document(document).into_relaxed_extjson() {
        serde_json::Value::Object(map) => map,
        _ => Row::new(),
    }
}

#[async_trait]
impl Snapshot for MongoSnapshot {
    async fn rows(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError> {
        self.cache.rows(query, self.find(query)).await
    }

    fn freshness(&self) -> Freshness {
        let p = &self.pointer;
        Freshness {
            gold_version: p.gold_version.clone(),
            as_of: p.as_of.clone(),
            gold_published_at: p.gold_published_at.clone(),
            loaded_at: p.loaded_at.clone(),
            ml_version: p.ml_version.clone(),
            store: STORE.to_string(),
        }
    }
}

impl MongoSnapshot {
    /// Runs `query` as one `find` on the version's collection.
    async fn find(&self, query: &TableQuery) -> Result<Vec<Row>, StoreError> {
        let collection = self
            .pointer
            .collections
            .get(&pointer_key(query.table))
            .ok_or_else(|| StoreError::MissingTable(super::qualified(query.table)))?;
        let mut sort = Document::new();
        for o in &query.order {
            sort.insert(o.column, if o.descending { -1 } else { 1 });
        }
        let collection = self.db.collection::<Document>(collection);
        let mut find = collection
            .find(filter(query))
            .projection(doc! { "_id": 0 })
            .skip(query.offset as u64);
        if !sort.is_empty() {
            find = find.sort(sort);
        }
        if let Some(limit) = query.limit {
            find = find.limit(limit as i64);
        }
        let documents: Vec<Document> = find
            .await
            .map_err(unavailable)?
            .try_collect()
            .await
            .map_err(unavailable)?;
        Ok(documents.into_iter().map(to_row).collect())
    }
}
