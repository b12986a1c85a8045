//! `/temps-reel/fenetres` and `/temps-reel/alertes`: what `lake stream process` writes to
//! MongoDB (window metrics per type and country, and alerts), newest window first. They need the
//! API to run with a MongoDB URL; without one they answer 503 saying so.

use actix_web::{HttpResponse, web};
use futures::TryStreamExt;
use lake_mongo::stream::{ALERTS, DEFAULT_TOPIC, EVENT_TYPES, RULES, WINDOWS};
use mongodb::bson::{Bson, Document, doc};
use serde_json::json;

use super::{AppState, Query, read_params};
use crate::error::ApiError;

fn database(state: &AppState) -> Result<&mongodb::Database, ApiError> {
    state.live.as_ref().ok_or_else(|| {
        ApiError::Unavailable(
            "real-time metrics live in MongoDB: start the API with --mongo-url".into(),
        )
    })
}

/// The filter shared by both listings: topic, then optional equalities.
fn filter(topic: String, equalities: [(&str, Option<String>); 2]) -> Document {
    let mut filter = doc! { "topic": topic };
    for (field, value) in equalities {
        if let Some(value) = value {
            filter.insert(field, value);
        }
    }
    filter
}

async fn newest(
    state: &AppState,
    collection: &str,
    filter: Document,
    limit: usize,
) -> Result<HttpResponse, ApiError> {
    let unavailable = |e: mongodb::error::Error| ApiError::Unavailable(e.to_string());
    let found: Vec<Document> = database(state)?
        .collection::<Document>(collection)
        .find(filter)
        .sort(doc! { "window_start_ms": -1, "_id": 1 })
        .limit(limit as i64)
        .projection(doc! { "_id": 0, "topic": 0 })
        .await
        .map_err(unavailable)?
        .try_collect()
        .await
        .map_err(unavailable)?;
    let data: Vec<serde_json::Value> = found
        .into_iter()
        .map(|d| Bson::Document(d).into_relaxed_extjson())
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "data": data })))
}

/// A listing filtered by `topic`, `pays` and one more field whose values are `allowed`.
async fn listing(
    state: &AppState,
    query: Query,
    collection: &str,
    field: &'static str,
    allowed: &[&str],
) -> Result<HttpResponse, ApiError> {
    let (topic, value, pays, limit) = read_params(query, |p| {
        let value = p.text(field)?;
        if let Some(value) = &value
            && !allowed.contains(&value.as_str())
        {
            return Err(ApiError::bad(
                field,
                format!("{value:?} is not one of {}", allowed.join(", ")),
            ));
        }
        let topic = p.text("topic")?.unwrap_or_else(|| DEFAULT_TOPIC.into());
        Ok((topic, value, p.text("pays")?, p.limit()?))
    })?;
    let filter = filter(topic, [(field, value), ("pays", pays)]);
    newest(state, collection, filter, limit).await
}

/// `topic`, `type`, `pays`, `limit` (≤ 500).
pub async fn fenetres(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    listing(&state, query, WINDOWS, "type", &EVENT_TYPES).await
}

/// `topic`, `rule` (`volume`, `part_abandon`, `panier_moyen`), `pays`, `limit` (≤ 500).
pub async fn alertes(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    listing(&state, query, ALERTS, "rule", &RULES).await
}
