//! `/health` (is the store reachable?) and `/freshness` (which Gold version is served).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, Query, read_params};
use crate::error::ApiError;

pub async fn health(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    let freshness = state.store.snapshot().await?.freshness();
    Ok(HttpResponse::Ok().json(json!({
        "status": "ok",
        "store": state.store.name(),
        "gold_version": freshness.gold_version,
    })))
}

pub async fn freshness(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    Ok(HttpResponse::Ok().json(state.store.snapshot().await?.freshness()))
}
