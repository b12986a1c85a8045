//! `/ml/churn`: the churn scores the ML stage publishes, filtered. The segments' profiles
//! (`/ml/segments`) and the model report (`/ml/rapport`) are plain listings declared in
//! `sql/ml/outputs/`.

use actix_web::{HttpResponse, web};

use super::{AppState, Query, list, read_params, rows};
use crate::error::ApiError;
use crate::store::{Op, TableQuery, Value};

/// `gold.scores_churn`, highest risk first: `risque` (faible, moyen, élevé), `score_min`,
/// `id_client`, `limit`, `offset`.
pub async fn churn(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let mut q = TableQuery::table("scores_churn");
    let (limit, offset) = read_params(query, |p| {
        if p.has("risque") {
            let band = p.choice("risque", &["faible", "moyen", "élevé"], "élevé")?;
            q.add_filter("risque", Op::Eq, Value::Text(band.into()));
        }
        if let Some(min) = p.float("score_min", 0.0, 1.0)? {
            q.add_filter("score_churn", Op::Gte, Value::Float(min));
        }
        if let Some(id) = p.int("id_client", 1, i64::MAX)? {
            q.add_filter("id_client", Op::Eq, Value::Int(id));
        }
        Ok((p.limit()?, p.offset()?))
    })?;
    q = q
        .order_by("score_churn", true)
        .order_by("id_client", false)
        .limit(limit)
        .offset(offset);
    Ok(list(rows(&state, &q).await?))
}
