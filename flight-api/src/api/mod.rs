//! HTTP handlers, one module per family of endpoints, all over one shared [`AppState`] whose
//! store may be the lake or MongoDB.

pub mod achats;
pub mod analytics;
pub mod clients;
pub mod health;
pub mod kpis;
pub mod ml;
pub mod openapi;
pub mod params;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::json;

use crate::error::ApiError;
use crate::store::{GoldStore, Row, Snapshot, TableQuery};
use params::Params;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn GoldStore>,
}

pub type Query = web::Query<BTreeMap<String, String>>;

/// Reads the parameters with `read`, refusing unknown ones.
pub fn read_params<T>(
    query: Query,
    read: impl FnOnce(&mut Params) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    let mut params = Params::new(query.into_inner());
    let value = read(&mut params)?;
    params.finish()?;
    Ok(value)
}

/// The version to answer one request from.
pub async fn snapshot(state: &AppState) -> Result<Arc<dyn Snapshot>, ApiError> {
    Ok(state.store.snapshot().await?)
}

/// Rows of one query, for handlers that read once.
pub async fn rows(state: &AppState, query: &TableQuery) -> Result<Vec<Row>, ApiError> {
    Ok(snapshot(state).await?.rows(query).await?)
}

/// `{"data": [...]}`.
pub fn list(rows: Vec<Row>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "data": rows }))
}

/// The only row of a one-row table.
pub async fn single(state: &AppState, table: &'static str) -> Result<HttpResponse, ApiError> {
    let found = rows(state, &TableQuery::table(table).limit(1)).await?;
    let row = found
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("gold.{table} is empty")))?;
    Ok(HttpResponse::Ok().json(row))
}

/// Every route of the API.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/health", web::get().to(health::health))
        .route("/freshness", web::get().to(health::freshness))
        .route("/openapi.json", web::get().to(openapi::document))
        .route("/kpis/globaux", web::get().to(kpis::globaux))
        .route("/kpis/clv", web::get().to(kpis::clv))
        .route("/kpis/retention", web::get().to(kpis::retention))
        .route("/kpis/rfm", web::get().to(kpis::rfm))
        .route("/kpis/produits", web::get().to(kpis::produits))
        .route("/kpis/croissance", web::get().to(kpis::croissance))
        .route("/ventes", web::get().to(analytics::ventes))
        .route(
            "/analytics/saisonnalite",
            web::get().to(analytics::saisonnalite),
        )
        .route(
            "/analytics/concentration",
            web::get().to(analytics::concentration),
        )
        .route("/analytics/cohortes", web::get().to(analytics::cohortes))
        .route("/clients", web::get().to(clients::clients))
        .route("/clients/{id}", web::get().to(clients::detail))
        .route("/produits", web::get().to(clients::produits))
        .route("/achats", web::get().to(achats::list))
        .route("/ml/segments", web::get().to(ml::segments))
        .route("/ml/churn", web::get().to(ml::churn))
        .route("/ml/rapport", web::get().to(ml::rapport));
}
