//! `/ventes` (the revenue facts by grain) and `/analytics/*` (seasonality, concentration with
//! the Lorenz curve, cohorts).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, Query, list, read_params, rows, snapshot};
use crate::error::ApiError;
use crate::store::{Op, TableQuery, Value};

/// Grains of `/ventes`: (name, fact table, its key column, whether the key is a date).
const GRAINS: [(&str, &str, &str, bool); 5] = [
    ("jour", "fact_ca_jour", "date", true),
    ("semaine", "fact_ca_semaine", "semaine", true),
    ("mois", "fact_ca_mois", "mois", true),
    ("heure", "fact_ca_heure", "heure", false),
    ("pays", "fact_ca_pays", "pays", false),
];

/// `/ventes?grain=jour|semaine|mois|heure|pays[&debut=YYYY-MM-DD][&fin=YYYY-MM-DD]`: revenue,
/// purchases, buyers and mean basket per grain; `debut` and `fin` (inclusive) bound the time
/// grains (a range that ends before it starts is empty).
pub async fn ventes(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let names: Vec<&'static str> = GRAINS.iter().map(|g| g.0).collect();
    let (grain, debut, fin) = read_params(query, |p| {
        Ok((
            p.choice("grain", &names, "jour")?,
            p.date("debut")?,
            p.date("fin")?,
        ))
    })?;
    let (_, table, key, is_date) = GRAINS
        .iter()
        .copied()
        .find(|g| g.0 == grain)
        .ok_or_else(|| ApiError::bad("grain", "unknown grain"))?;
    if !is_date && (debut.is_some() || fin.is_some()) {
        let name = if debut.is_some() { "debut" } else { "fin" };
        return Err(ApiError::bad(
            name,
            format!("only the time grains (jour, semaine, mois) take a date range, not {grain}"),
        ));
    }
    let mut q = TableQuery::table(table);
    if let Some(d) = debut {
        q = q.filter(key, Op::Gte, Value::Date(d));
    }
    if let Some(f) = fin.and_then(|f| f.succ_opt()) {
        q = q.filter(key, Op::Lt, Value::Date(f));
    }
    q = if grain == "pays" {
        q.order_by("ca", true).order_by("pays", false)
    } else {
        q.order_by(key, false)
    };
    Ok(list(rows(&state, &q).await?))
}

/// `gold.saisonnalite`, optionally one `dimension` (jour_semaine, mois, heure).
pub async fn saisonnalite(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let dimension = read_params(query, |p| {
        if !p.has("dimension") {
            return Ok(None);
        }
        p.choice("dimension", &["jour_semaine", "mois", "heure"], "mois")
            .map(Some)
    })?;
    let mut q = TableQuery::table("saisonnalite")
        .order_by("dimension", false)
        .order_by("valeur", false);
    if let Some(d) = dimension {
        q = q.filter("dimension", Op::Eq, Value::Text(d.to_string()));
    }
    Ok(list(rows(&state, &q).await?))
}

/// `gold.concentration` with `lorenz`: the 101 points of the Lorenz curve.
pub async fn concentration(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    read_params(query, |_| Ok(()))?;
    let version = snapshot(&state).await?;
    let mut summary = version
        .rows(&TableQuery::table("concentration").limit(1))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound("gold.concentration is empty".into()))?;
    let lorenz = version
        .rows(&TableQuery::table("lorenz").order_by("part_clients", false))
        .await?;
    summary.insert("lorenz".into(), json!(lorenz));
    Ok(HttpResponse::Ok().json(summary))
}

/// `gold.cohortes`, by cohort then relative month; optional `cohorte` (its first day).
pub async fn cohortes(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let cohorte = read_params(query, |p| p.date("cohorte"))?;
    let mut q = TableQuery::table("cohortes")
        .order_by("cohorte", false)
        .order_by("mois_relatif", false);
    if let Some(c) = cohorte {
        q = q.filter("cohorte", Op::Eq, Value::Date(c));
    }
    Ok(list(rows(&state, &q).await?))
}
