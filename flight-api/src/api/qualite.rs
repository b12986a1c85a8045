//! `/qualite/quarantaine`: the quarantined rows, with their source file and line, for the
//! dashboard's "Qualité des données" page. The quality report itself (`/qualite`) is a plain
//! listing declared in `sql/silver/quality.sql`.

use actix_web::{HttpResponse, web};

use super::{AppState, Query, list, read_params, rows};
use crate::error::ApiError;
use crate::store::{Op, TableQuery, Value};

/// The quarantined rows' table.
pub const QUARANTINE: &str = "silver.quarantine";

/// `silver.quarantine`, by entity, file and line: `entite` (clients, achats), `raison`,
/// `fichier` (the source file's name as ingested), `limit`, `offset`.
pub async fn quarantaine(
    state: web::Data<AppState>,
    query: Query,
) -> Result<HttpResponse, ApiError> {
    let mut q = TableQuery::table(QUARANTINE);
    let (limit, offset) = read_params(query, |p| {
        if p.has("entite") {
            let entite = p.choice("entite", &["clients", "achats"], "achats")?;
            q.add_filter("entite", Op::Eq, Value::Text(entite.into()));
        }
        if let Some(raison) = p.text("raison")? {
            q.add_filter("raison", Op::Eq, Value::Text(raison));
        }
        if let Some(fichier) = p.text("fichier")? {
            q.add_filter("fichier_source", Op::Eq, Value::Text(fichier));
        }
        Ok((p.limit()?, p.offset()?))
    })?;
    q = q
        .order_by("entite", false)
        .order_by("fichier_source", false)
        .order_by("ligne_source", false)
        .limit(limit)
        .offset(offset);
    Ok(list(rows(&state, &q).await?))
}
