//! `/achats`: purchases with filters, a sort, and keyset pagination (`next` is the cursor of
//! the following page; pages stay consistent while new purchases arrive).

use actix_web::{HttpResponse, web};
use serde_json::json;

use super::params::{parse_cents, parse_timestamp};
use super::{AppState, Query, read_params, rows};
use crate::error::ApiError;
use crate::store::{After, Op, Row, TableQuery, Value};

/// `client`, `pays`, `produit`, `debut` / `fin` (dates, inclusive), `tri` (`date_achat` or
/// `montant`), `ordre` (`asc` or `desc`, default `desc`), `limit` (≤ 500), `apres` (a cursor).
pub async fn list(state: web::Data<AppState>, query: Query) -> Result<HttpResponse, ApiError> {
    let mut q = TableQuery::table("fact_achats");
    let (sort, descending, limit, cursor) = read_params(query, |p| {
        if let Some(id) = p.int("client", 1, i64::MAX)? {
            q.add_filter("id_client", Op::Eq, Value::Int(id));
        }
        for (name, column) in [("pays", "pays"), ("produit", "produit")] {
            if let Some(v) = p.text(name)? {
                q.add_filter(column, Op::Eq, Value::Text(v));
            }
        }
        // A range that ends before it starts is empty, not an error.
        let (debut, fin) = (p.date("debut")?, p.date("fin")?);
        if let Some(d) = debut {
            let start = d.and_time(chrono::NaiveTime::MIN);
            q.add_filter("date_achat", Op::Gte, Value::Timestamp(start));
        }
        if let Some(f) = fin.and_then(|f| f.succ_opt()) {
            let end = f.and_time(chrono::NaiveTime::MIN);
            q.add_filter("date_achat", Op::Lt, Value::Timestamp(end));
        }
        let sort = p.choice("tri", &["date_achat", "montant"], "date_achat")?;
        let descending = p.choice("ordre", &["asc", "desc"], "desc")? == "desc";
        Ok((sort, descending, p.limit()?, p.text("apres")?))
    })?;
    if let Some(cursor) = cursor {
        q.after = Some(decode_cursor(&cursor, sort, descending)?);
    }
    q = q
        .order_by(sort, descending)
        .order_by("id_achat", descending);
    // One more row than asked tells whether a next page exists.
    q.limit = Some(limit + 1);
    let mut found = rows(&state, &q).await?;
    let next = if found.len() > limit {
        found.truncate(limit);
        found.last().and_then(|row| encode_cursor(row, sort))
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(json!({ "data": found, "next": next, "limit": limit })))
}

/// `<sort value>~<id_achat>` of the last row of a page.
fn encode_cursor(row: &Row, sort: &str) -> Option<String> {
    let id = row.get("id_achat")?.as_i64()?;
    let value = match row.get(sort)? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    Some(format!("{value}~{id}"))
}

fn decode_cursor(cursor: &str, sort: &'static str, descending: bool) -> Result<After, ApiError> {
    let bad = || {
        ApiError::bad(
            "apres",
            format!("{cursor:?} is not a cursor of this listing: pass the `next` of a page"),
        )
    };
    let (value, id) = cursor.rsplit_once('~').ok_or_else(bad)?;
    let id: i64 = id.parse().map_err(|_| bad())?;
    let value = match sort {
        "montant" => Value::Cents(parse_cents(value).ok_or_else(bad)?),
        _ => Value::Timestamp(parse_timestamp(value).ok_or_else(bad)?),
    };
    Ok(After {
        column: sort,
        value,
        id_column: "id_achat",
        id,
        descending,
    })
}
