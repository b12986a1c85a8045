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
pub mod qualite;
pub mod temps_reel;

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::{HttpResponse, web};
use serde_json::json;

use lake_core::serving::{ListRoute, ServedTable, ServingCatalogue};

use crate::error::ApiError;
use crate::store::{GoldStore, Row, Snapshot, TableQuery};
use params::Params;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn GoldStore>,
    /// The MongoDB database `lake stream process` writes to, when the API has a MongoDB URL.
    pub live: Option<mongodb::Database>,
    /// What is served and how, from the models' headers.
    pub catalogue: &'static ServingCatalogue,
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

/// A GET-only resource: other methods get 405 with `Allow: GET`.
fn get<F, Args>(path: &str, handler: F) -> actix_web::Resource
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    web::resource(path)
        .route(web::get().to(handler))
        .default_service(web::to(method_not_allowed))
}

async fn method_not_allowed() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("allow", "GET"))
        .json(json!({ "error": {
            "code": "method_not_allowed",
            "message": "the API is read-only: use GET"
        }}))
}

/// A plain listing its model declares (`-- route: <path> order by …`): every row of the table,
/// in that order, and no parameter.
async fn listing(
    state: web::Data<AppState>,
    query: Query,
    table: &'static ServedTable,
    route: &'static ListRoute,
) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    let q = route
        .order
        .iter()
        .fold(TableQuery::table(&table.key), |q, key| {
            q.order_by(&key.column, key.descending)
        });
    Ok(list(rows(&state, &q).await?))
}

/// Every route of the API: the handlers written here, then the plain listings of `catalogue`.
pub fn routes(config: &mut web::ServiceConfig, catalogue: &'static ServingCatalogue) {
    config
        .service(get("/health", health::health))
        .service(get("/freshness", health::freshness))
        .service(get("/openapi.json", openapi::document))
        .service(get("/kpis/globaux", kpis::globaux))
        .service(get("/kpis/clv", kpis::clv))
        .service(get("/kpis/rfm/clients", kpis::rfm_clients))
        .service(get("/ventes", analytics::ventes))
        .service(get("/analytics/saisonnalite", analytics::saisonnalite))
        .service(get("/analytics/concentration", analytics::concentration))
        .service(get("/analytics/cohortes", analytics::cohortes))
        .service(get("/clients", clients::clients))
        .service(get("/clients/{id}", clients::detail))
        .service(get("/achats", achats::list))
        .service(get("/ml/churn", ml::churn))
        .service(get("/qualite/quarantaine", qualite::quarantaine))
        .service(get("/temps-reel/fenetres", temps_reel::fenetres))
        .service(get("/temps-reel/alertes", temps_reel::alertes));
    for (table, route) in catalogue.routes() {
        config.service(get(
            &route.path,
            move |state: web::Data<AppState>, query: Query| listing(state, query, table, route),
        ));
    }
}
