//! `/kpis/*` with parameters or a single row: the headline figures, customer value, the buyers
//! of one RFM segment. The plain listings (retention, RFM segments and grid, CLV deciles,
//! products, growth) are declared in their models' headers and served by [`super::listing`].

use actix_web::{HttpResponse, web};

use super::{AppState, Query, list, read_params, rows, single};
use crate::error::ApiError;
use crate::store::{Op, TableQuery, Value};

/// `gold.kpi_globaux`: one object.
pub async fn globaux(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    single(&state, "kpi_globaux").await
}

/// `gold.kpi_clv`, largest 12-month CLV first: `limit`, `offset`, optional `id_client`.
pub async fn clv(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let (limit, offset, client) = read_params(query, |p| {
        Ok((p.limit()?, p.offset()?, p.int("id_client", 1, i64::MAX)?))
    })?;
    let mut q = TableQuery::table("kpi_clv")
        .order_by("clv_12m", true)
        .order_by("id_client", false)
        .limit(limit)
        .offset(offset);
    if let Some(id) = client {
        q = q.filter("id_client", Op::Eq, Value::Int(id));
    }
    Ok(list(rows(&state, &q).await?))
}

/// `gold.dim_rfm` of one segment (`segment`, required), largest amount first: `limit`, `offset`.
pub async fn rfm_clients(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let (segment, limit, offset) = read_params(query, |p| {
        let segment = p
            .text("segment")?
            .ok_or_else(|| ApiError::bad("segment", "give the RFM segment, e.g. Champions"))?;
        Ok((segment, p.limit()?, p.offset()?))
    })?;
    let q = TableQuery::table("dim_rfm")
        .filter("segment", Op::Eq, Value::Text(segment))
        .order_by("montant", true)
        .order_by("id_client", false)
        .limit(limit)
        .offset(offset);
    Ok(list(rows(&state, &q).await?))
}
