//! The serving catalogue: which published tables the API and MongoDB serve, and how, declared
//! once in the header of each model of `sql/`.
//!
//! ```sql
//! -- gold.kpi_rfm_grille: the R × F grid of the RFM scores, for the dashboard's heatmap.
//! -- serve: bounded
//! -- route: /kpis/rfm/grille order by r_score, f_score
//! -- index: segment, montant desc, id_client
//! ```
//!
//! - `serve: bounded` — the table's size is bounded by the calendar, the catalogue, the
//!   countries or the checks: the API keeps its answers for the version's lifetime.
//!   `serve: paged` — it grows with clients or purchases: always read page by page.
//! - `route: <path> order by <column> [desc], …` — a plain listing endpoint returning every row
//!   in that order; endpoints with parameters are written as handlers and only read the table.
//! - `index: <column> [desc], …` — one MongoDB index (one line each), for the filters and sorts
//!   of the handlers.
//!
//! The tables the ML stage writes are declared the same way in `sql/ml/outputs/`, header-only
//! files with `materialized: external`. Everything that lists served tables (the MongoDB loader,
//! the API's cache and routes, the OpenAPI document, the test harness) reads this catalogue.

use std::sync::OnceLock;

use crate::error::{LakeError, Result};
use crate::models::{Layer, SqlProject};

/// How big a served table can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// Bounded by the calendar, the catalogue, the countries or the checks: answers are cached.
    Bounded,
    /// Grows with clients or purchases: read page by page, never cached.
    Paged,
}

/// One column of an order or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub column: String,
    pub descending: bool,
}

/// A plain listing endpoint: every row of the table, in `order`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRoute {
    /// `/kpis/rfm/grille`.
    pub path: String,
    pub order: Vec<SortKey>,
}

/// How a model is served, from its `serve:`, `route:` and `index:` header lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Serving {
    pub size: Size,
    pub route: Option<ListRoute>,
    /// MongoDB indexes, keys in order.
    pub indexes: Vec<Vec<SortKey>>,
}

/// A served table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedTable {
    pub layer: Layer,
    /// Name inside its layer: `kpi_rfm`, `quality`.
    pub table: String,
    /// How the API and the MongoDB layout name it: the bare name for Gold and ML tables
    /// (`kpi_rfm`), the qualified one for Silver (`silver.quality`).
    pub key: String,
    /// The first sentence of the model's header, for documentation (`OpenAPI` summaries).
    pub summary: String,
    pub serving: Serving,
}

impl ServedTable {
    /// `gold.kpi_rfm`, `silver.quality`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.layer.schema(), self.table)
    }

    pub fn is_bounded(&self) -> bool {
        self.serving.size == Size::Bounded
    }
}

/// Every served table of a SQL project.
#[derive(Debug, Clone)]
pub struct ServingCatalogue {
    tables: Vec<ServedTable>,
}

impl ServingCatalogue {
    /// The served tables of `project`, Silver then Gold then ML, by name within a layer.
    pub fn of(project: &SqlProject) -> Self {
        let mut tables: Vec<ServedTable> = project
            .models()
            .iter()
            .filter_map(|m| {
                let serving = m.serving.clone()?;
                let key = match m.layer {
                    Layer::Silver => m.qualified_name(),
                    Layer::Gold | Layer::Ml => m.table.clone(),
                };
                Some(ServedTable {
                    layer: m.layer,
                    table: m.table.clone(),
                    key,
                    summary: m.summary.clone(),
                    serving,
                })
            })
            .collect();
        tables.sort_by(|a, b| (a.layer, &a.table).cmp(&(b.layer, &b.table)));
        Self { tables }
    }

    /// The catalogue of the `sql/` folder compiled into this binary (parsed once).
    pub fn embedded() -> Result<&'static Self> {
        static EMBEDDED: OnceLock<std::result::Result<ServingCatalogue, String>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| {
                SqlProject::embedded()
                    .map(|p| Self::of(&p))
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|reason| LakeError::model("sql/", reason.clone()))
    }

    /// Every served table.
    pub fn tables(&self) -> &[ServedTable] {
        &self.tables
    }

    /// The served tables of one layer.
    pub fn in_layer(&self, layer: Layer) -> impl Iterator<Item = &ServedTable> {
        self.tables.iter().filter(move |t| t.layer == layer)
    }

    /// A served table by its [`ServedTable::key`].
    pub fn get(&self, key: &str) -> Option<&ServedTable> {
        self.tables.iter().find(|t| t.key == key)
    }

    /// The tables with a plain listing route.
    pub fn routes(&self) -> impl Iterator<Item = (&ServedTable, &ListRoute)> {
        self.tables
            .iter()
            .filter_map(|t| t.serving.route.as_ref().map(|r| (t, r)))
    }
}

/// The values of every `-- key: value` line of a model's header (the comment lines before the
/// first statement), in order.
pub(crate) fn header_values<'a>(sql: &'a str, key: &str) -> Vec<&'a str> {
    header_lines(sql)
        .filter_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == key).then(|| value.trim())
        })
        .collect()
}

/// The text of a model's header comment lines (without `--`).
fn header_lines(sql: &str) -> impl Iterator<Item = &str> {
    sql.lines()
        .take_while(|l| l.trim_start().starts_with("--") || l.trim().is_empty())
        .filter_map(|l| l.trim_start().strip_prefix("--"))
        .map(str::trim)
}

/// The first sentence of a header's first paragraph, without its `layer.table:` prefix and with
/// a capital: `-- gold.kpi_rfm: buyers per segment. …` → `Buyers per segment`.
pub(crate) fn summary(sql: &str, qualified: &str) -> String {
    let paragraph: Vec<&str> = header_lines(sql).take_while(|l| !l.is_empty()).collect();
    let text = paragraph.join(" ");
    let text = text
        .strip_prefix(qualified)
        .and_then(|rest| rest.strip_prefix(':'))
        .unwrap_or(&text)
        .trim();
    let sentence = match text.find(". ") {
        Some(end) => &text[..end],
        None => text.trim_end_matches('.'),
    };
    let mut chars = sentence.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The serving declaration of a model, if its header has one; errors name `file`.
pub(crate) fn serving(file: &str, sql: &str) -> Result<Option<Serving>> {
    let bad = |reason: String| LakeError::model(file, reason);
    let serve = header_values(sql, "serve");
    let routes = header_values(sql, "route");
    let indexes = header_values(sql, "index");
    let size = match serve.as_slice() {
        [] if routes.is_empty() && indexes.is_empty() => return Ok(None),
        [] => return Err(bad("route: and index: need a serve: line".into())),
        ["bounded"] => Size::Bounded,
        ["paged"] => Size::Paged,
        [other] => {
            return Err(bad(format!(
                "unknown serve: {other:?} (expected bounded or paged)"
            )));
        }
        _ => return Err(bad("more than one serve: line".into())),
    };
    let route = match routes.as_slice() {
        [] => None,
        [route] => Some(list_route(route).map_err(bad)?),
        _ => return Err(bad("more than one route: line".into())),
    };
    let indexes = indexes
        .iter()
        .map(|keys| sort_keys(keys).map_err(bad))
        .collect::<Result<_>>()?;
    Ok(Some(Serving {
        size,
        route,
        indexes,
    }))
}

/// `/kpis/rfm order by nb_clients desc, segment`.
fn list_route(text: &str) -> std::result::Result<ListRoute, String> {
    let (path, order) = text
        .split_once(" order by ")
        .ok_or_else(|| format!("route: {text:?} needs `<path> order by <columns>`"))?;
    let path = path.trim();
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(format!(
            "route path {path:?} must start with / and hold no space"
        ));
    }
    Ok(ListRoute {
        path: path.to_string(),
        order: sort_keys(order)?,
    })
}

/// `segment, montant desc, id_client`.
fn sort_keys(text: &str) -> std::result::Result<Vec<SortKey>, String> {
    let keys = text
        .split(',')
        .map(|part| {
            let words: Vec<&str> = part.split_whitespace().collect();
            match words.as_slice() {
                [column] => Ok((column, false)),
                [column, "asc"] => Ok((column, false)),
                [column, "desc"] => Ok((column, true)),
                _ => Err(format!(
                    "{part:?} is not `<column>`, `<column> asc` or `<column> desc`"
                )),
            }
            .map(|(column, descending)| SortKey {
                column: column.to_string(),
                descending,
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Err("no column".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODEL: &str = "-- gold.kpi_rfm: buyers and revenue per RFM segment. Reads gold.dim_rfm.\n\
        -- more text\n--\n-- serve: bounded\n-- route: /kpis/rfm order by nb_clients desc, segment\n\
        -- index: segment, montant desc, id_client\n-- index: id_client\n\nSELECT 1";

    fn key(column: &str, descending: bool) -> SortKey {
        SortKey {
            column: column.into(),
            descending,
        }
    }

    #[test]
    fn a_header_declares_size_route_and_indexes() {
        let serving = serving("f.sql", MODEL).expect("valid").expect("served");
        assert_eq!(serving.size, Size::Bounded);
        assert_eq!(
            serving.route,
            Some(ListRoute {
                path: "/kpis/rfm".into(),
                order: vec![key("nb_clients", true), key("segment", false)],
            })
        );
        assert_eq!(
            serving.indexes,
            vec![
                vec![
                    key("segment", false),
                    key("montant", true),
                    key("id_client", false)
                ],
                vec![key("id_client", false)],
            ]
        );
        assert_eq!(
            summary(MODEL, "gold.kpi_rfm"),
            "Buyers and revenue per RFM segment"
        );
    }

    #[test]
    fn declarations_after_the_header_or_absent_serve_nothing() {
        assert!(matches!(serving("f.sql", "-- a table\nSELECT 1"), Ok(None)));
        let late = "-- a table\nSELECT 1\n-- serve: bounded";
        assert!(matches!(serving("f.sql", late), Ok(None)));
    }

    #[test]
    fn bad_declarations_are_refused_with_the_file() {
        for (header, expected) in [
            ("-- serve: huge", "unknown serve"),
            ("-- index: id_client", "need a serve"),
            (
                "-- serve: paged\n-- route: kpis order by a",
                "must start with /",
            ),
            ("-- serve: paged\n-- route: /kpis", "order by"),
            ("-- serve: paged\n-- index: a up", "is not"),
        ] {
            let sql = format!("{header}\nSELECT 1");
            let err = serving("sql/gold/x.sql", &sql).expect_err(header);
            let text = err.to_string();
            assert!(
                text.contains("sql/gold/x.sql") && text.contains(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn the_embedded_catalogue_serves_silver_gold_and_ml_tables() {
        let catalogue = ServingCatalogue::embedded().expect("embedded sql parses");
        let quality = catalogue.get("silver.quality").expect("quality served");
        assert_eq!(quality.layer, Layer::Silver);
        assert!(quality.is_bounded());
        let facts = catalogue.get("fact_achats").expect("facts served");
        assert!(!facts.is_bounded() && !facts.serving.indexes.is_empty());
        assert_eq!(
            catalogue.get("scores_churn").map(|t| t.layer),
            Some(Layer::Ml)
        );
        // Internal models and views are not served.
        assert!(catalogue.get("parametres").is_none());
        assert!(catalogue.get("dim_temps").is_none());
    }
}
