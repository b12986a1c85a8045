//! `/clients`, `/clients/{id}` (profile, RFM, CLV, ML scores and latest purchases) and
//! `/produits`.

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, Query, list, read_params, rows, snapshot};
use crate::error::ApiError;
use crate::store::{Op, Row, Snapshot, StoreError, TableQuery, Value};

/// Latest purchases shown with a client.
const RECENT_PURCHASES: usize = 20;

/// `gold.dim_clients`, largest revenue first: `limit`, `offset`, optional `pays`.
pub async fn clients(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let (limit, offset, pays) =
        read_params(query, |p| Ok((p.limit()?, p.offset()?, p.text("pays")?)))?;
    let mut q = TableQuery::table("dim_clients")
        .order_by("ca_total", true)
        .order_by("id_client", false)
        .limit(limit)
        .offset(offset);
    if let Some(pays) = pays {
        q = q.filter("pays", Op::Eq, Value::Text(pays));
    }
    Ok(list(rows(&state, &q).await?))
}

/// The row of `table` for one client.
fn of_client(table: &'static str, id: i64) -> TableQuery {
    TableQuery::table(table)
        .filter("id_client", Op::Eq, Value::Int(id))
        .limit(1)
}

/// One row of `table` for a client, if any.
async fn one(
    version: &dyn Snapshot,
    table: &'static str,
    id: i64,
) -> Result<Option<Row>, ApiError> {
    Ok(version
        .rows(&of_client(table, id))
        .await?
        .into_iter()
        .next())
}

/// Like [`one`], but `null` when the table is not published (the ML tables before `lake ml`).
async fn optional(
    version: &dyn Snapshot,
    table: &'static str,
    id: i64,
) -> Result<Option<Row>, ApiError> {
    match version.rows(&of_client(table, id)).await {
        Ok(found) => Ok(found.into_iter().next()),
        Err(StoreError::MissingTable(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// `/clients/{id}`: `profil`, `rfm`, `clv`, `segment_ml`, `churn`, and the latest purchases.
pub async fn detail(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    let id: i64 = id.trim().parse().ok().filter(|id| *id > 0).ok_or_else(|| {
        ApiError::bad(
            "id",
            format!("{id:?} is not a client id (a positive integer)"),
        )
    })?;
    let snapshot = snapshot(&state).await?;
    let version = snapshot.as_ref();
    let profil = one(version, "dim_clients", id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no client {id}")))?;
    let achats = version
        .rows(
            &TableQuery::table("fact_achats")
                .filter("id_client", Op::Eq, Value::Int(id))
                .order_by("date_achat", true)
                .order_by("id_achat", true)
                .limit(RECENT_PURCHASES),
        )
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "id_client": id,
        "profil": profil,
        "rfm": one(version, "dim_rfm", id).await?,
        "clv": one(version, "kpi_clv", id).await?,
        "segment_ml": optional(version, "segments_ml", id).await?,
        "churn": optional(version, "scores_churn", id).await?,
        "derniers_achats": achats,
    })))
}
