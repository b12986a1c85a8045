//! `/openapi.json`: the OpenAPI 3.0 document of the API. The plain listings come from the serving
//! catalogue (the models' headers) and every table's row schema from the real Arrow schemas
//! (`contract/tables.json`, checked against a published lake by `tests/table_schemas.rs`), so
//! the document, the routes and the data share one source of truth; property-based clients such
//! as Schemathesis check the responses against it.

use actix_web::HttpResponse;
use datafusion::arrow::datatypes::{DataType, Schema};
use lake_core::serving::ServingCatalogue;
use lake_mongo::stream::{DEFAULT_TOPIC, EVENT_TYPES, RULES};
use serde_json::{Value as Json, json};

use super::params::{DEFAULT_LIMIT, MAX_LIMIT};

/// The JSON schema of every served table's rows (`flight-api/contract/tables.json`), generated
/// from the real Arrow schemas of a published lake by `tests/table_schemas.rs`, which fails when
/// the tables and this file disagree (a renamed column, a changed type or nullability).
const TABLE_SCHEMAS: &str = include_str!("../../contract/tables.json");

/// JSON types of the stream's documents (written by `lake stream process`, not Arrow tables).
#[derive(Clone, Copy)]
enum Kind {
    Int,
    Num,
    Text,
    DateTime,
}

use Kind::{DateTime, Int, Num, Text};

/// The JSON schema of a timestamp as the API writes it (`2025-03-01T10:00:00`, no zone).
fn timestamp_schema() -> Json {
    json!({ "type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}" })
}

fn kind_schema(kind: Kind) -> Json {
    match kind {
        Int => json!({ "type": "integer" }),
        Num => json!({ "type": "number" }),
        Text => json!({ "type": "string" }),
        DateTime => timestamp_schema(),
    }
}

/// The schema of the stream's documents: every field present.
fn document_schema(fields: &[(&str, Kind)]) -> Json {
    let properties: serde_json::Map<String, Json> = fields
        .iter()
        .map(|(name, kind)| (name.to_string(), kind_schema(*kind)))
        .collect();
    let required: Vec<&str> = fields.iter().map(|(name, _)| *name).collect();
    json!({ "type": "object", "required": required, "properties": properties })
}

/// The JSON schema of one Arrow column as the API writes it (`rows_from_batches`): every column
/// is present in every row, `null` only where Arrow allows it.
fn column_schema(data_type: &DataType, nullable: bool) -> Json {
    let mut schema = match data_type {
        DataType::Boolean => json!({ "type": "boolean" }),
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => json!({ "type": "integer" }),
        DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => json!({ "type": "number" }),
        DataType::Date32 | DataType::Date64 => json!({ "type": "string", "format": "date" }),
        DataType::Timestamp(..) => timestamp_schema(),
        _ => json!({ "type": "string" }),
    };
    if nullable {
        schema["nullable"] = json!(true);
    }
    schema
}

/// The JSON schema of a table's rows, from its Arrow schema: one required property per column.
pub fn row_schema(schema: &Schema) -> Json {
    let properties: serde_json::Map<String, Json> = schema
        .fields()
        .iter()
        .map(|f| {
            (
                f.name().clone(),
                column_schema(f.data_type(), f.is_nullable()),
            )
        })
        .collect();
    let required: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    json!({ "type": "object", "required": required, "properties": properties })
}

/// The generated row schemas, by table name.
fn table_schemas() -> serde_json::Map<String, Json> {
    serde_json::from_str(TABLE_SCHEMAS).unwrap_or_default()
}

/// `/ventes` answers rows of one of the `fact_ca_*` tables, by grain: every column any grain
/// has, required when every grain has it.
fn sales_schema(tables: &serde_json::Map<String, Json>) -> Json {
    let grains = [
        "fact_ca_jour",
        "fact_ca_semaine",
        "fact_ca_mois",
        "fact_ca_heure",
        "fact_ca_pays",
    ];
    let mut properties = serde_json::Map::new();
    let mut required: Option<Vec<Json>> = None;
    for grain in grains.iter().filter_map(|g| tables.get(*g)) {
        if let Some(own) = grain["properties"].as_object() {
            for (name, schema) in own {
                properties.entry(name.clone()).or_insert(schema.clone());
            }
        }
        let own: Vec<Json> = grain["required"].as_array().cloned().unwrap_or_default();
        required = Some(match required {
            None => own,
            Some(all) => all.into_iter().filter(|c| own.contains(c)).collect(),
        });
    }
    json!({ "type": "object", "required": required.unwrap_or_default(), "properties": properties })
}

fn reference(name: &str) -> Json {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn data_of(name: &str) -> Json {
    json!({
        "type": "object",
        "required": ["data"],
        "properties": { "data": { "type": "array", "items": reference(name) } }
    })
}

/// A query parameter: (name, schema, description).
fn param(name: &str, schema: Json, description: &str) -> Json {
    json!({ "name": name, "in": "query", "required": false, "schema": schema, "description": description })
}

fn limit_offset() -> Vec<Json> {
    vec![
        param(
            "limit",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
            "page size",
        ),
        param(
            "offset",
            json!({ "type": "integer", "minimum": 0, "maximum": 10_000_000, "default": 0 }),
            "rows to skip",
        ),
    ]
}

fn date() -> Json {
    json!({ "type": "string", "format": "date" })
}

fn id() -> Json {
    json!({ "type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX })
}

fn operation(summary: &str, parameters: Vec<Json>, ok: Json) -> Json {
    let error = reference("Error");
    json!({
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {
                "200": { "description": "OK", "content": { "application/json": { "schema": ok } } },
                "400": { "description": "a bad parameter, named in the body", "content": { "application/json": { "schema": error.clone() } } },
                "404": { "description": "not found", "content": { "application/json": { "schema": error.clone() } } },
                "503": { "description": "the store is unreachable; retry", "content": { "application/json": { "schema": error } } }
            }
        }
    })
}

/// The real-time listings (served only with a MongoDB URL, so only then documented).
fn live_paths() -> Vec<(&'static str, Json)> {
    let limit = param(
        "limit",
        json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
        "most documents, newest window first",
    );
    let topic = param(
        "topic",
        json!({ "type": "string", "default": DEFAULT_TOPIC }),
        "the events topic",
    );
    let pays = param("pays", json!({ "type": "string" }), "one country");
    vec![
        (
            "/temps-reel/fenetres",
            operation(
                "Event-time windows per type and country, from lake stream process",
                vec![
                    topic.clone(),
                    param(
                        "type",
                        json!({ "type": "string", "enum": EVENT_TYPES }),
                        "one event type",
                    ),
                    pays.clone(),
                    limit.clone(),
                ],
                data_of("fenetre"),
            ),
        ),
        (
            "/temps-reel/alertes",
            operation(
                "Anomalies detected on complete windows",
                vec![
                    topic,
                    param(
                        "rule",
                        json!({ "type": "string", "enum": RULES }),
                        "one rule",
                    ),
                    pays,
                    limit,
                ],
                data_of("alerte"),
            ),
        ),
    ]
}

/// The document of a server, with the real-time listings when it has MongoDB.
pub fn openapi_for(catalogue: &ServingCatalogue, live: bool) -> Json {
    let mut document = openapi(catalogue);
    if live {
        for (path, operation) in live_paths() {
            document["paths"][path] = operation;
        }
        let schemas = &mut document["components"]["schemas"];
        schemas["fenetre"] = document_schema(&[
            ("window_start", DateTime),
            ("window_start_ms", Int),
            ("window_end_ms", Int),
            ("type", Text),
            ("pays", Text),
            ("nb", Int),
            ("montant", Num),
            ("written_at", DateTime),
        ]);
        schemas["alerte"] = document_schema(&[
            ("window_start", DateTime),
            ("window_start_ms", Int),
            ("rule", Text),
            ("type", Text),
            ("pays", Text),
            ("valeur", Num),
            ("moyenne", Num),
            ("z", Num),
            ("detected_at", DateTime),
        ]);
    }
    document
}

/// The whole document (without the real-time listings).
pub fn openapi(catalogue: &ServingCatalogue) -> Json {
    let mut schemas = table_schemas();
    schemas.insert("vente".into(), sales_schema(&schemas));
    schemas.insert(
        "Error".into(),
        json!({
            "type": "object",
            "required": ["error"],
            "properties": { "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": { "type": "string" },
                    "message": { "type": "string" },
                    "parameter": { "type": "string" }
                }
            }}
        }),
    );
    let mut concentration = schemas
        .get("concentration")
        .cloned()
        .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
    concentration["properties"]["lorenz"] =
        json!({ "type": "array", "items": reference("lorenz") });
    if let Some(required) = concentration["required"].as_array_mut() {
        required.push(json!("lorenz"));
    }
    let nullable_ref = |name: &str| json!({ "allOf": [reference(name)], "nullable": true });
    let client = json!({
        "type": "object",
        "properties": {
            "id_client": { "type": "integer" },
            "profil": reference("dim_clients"),
            "rfm": nullable_ref("dim_rfm"),
            "clv": nullable_ref("kpi_clv"),
            "segment_ml": nullable_ref("segments_ml"),
            "churn": nullable_ref("scores_churn"),
            "derniers_achats": { "type": "array", "items": reference("fact_achats") }
        }
    });
    let achats_page = json!({
        "type": "object",
        "required": ["data", "next", "limit"],
        "properties": {
            "data": { "type": "array", "items": reference("fact_achats") },
            "next": { "type": "string", "nullable": true },
            "limit": { "type": "integer" }
        }
    });
    let text = |values: &[&str]| json!({ "type": "string", "enum": values });
    let plain = |s: &str| json!({ "type": "string", "minLength": 1, "description": s });
    let mut achats_params = vec![
        param("client", id(), "purchases of one client"),
        param(
            "pays",
            plain("country (French name)"),
            "country of the client",
        ),
        param("produit", plain("product name"), "product"),
        param("debut", date(), "first day (inclusive)"),
        param("fin", date(), "last day (inclusive)"),
        param("tri", text(&["date_achat", "montant"]), "sort column"),
        param(
            "ordre",
            text(&["asc", "desc"]),
            "sort direction (default desc)",
        ),
        param(
            "apres",
            json!({ "type": "string", "minLength": 1 }),
            "cursor: the `next` of the previous page",
        ),
    ];
    achats_params.push(limit_offset().remove(0));
    let mut paths = json!({
        "/health": operation("Is the store reachable?", vec![], json!({
            "type": "object", "required": ["status", "store"],
            "properties": { "status": { "type": "string" }, "store": { "type": "string" }, "gold_version": { "type": "string" } }
        })),
        "/freshness": operation("The Gold version served and when it was loaded", vec![], json!({
            "type": "object", "required": ["gold_version", "as_of", "gold_published_at", "loaded_at", "store"],
            "properties": {
                "gold_version": { "type": "string" }, "as_of": { "type": "string" },
                "gold_published_at": { "type": "string" }, "loaded_at": { "type": "string" },
                "ml_version": { "type": "string", "nullable": true }, "store": { "type": "string" }
            }
        })),
        "/kpis/globaux": operation("Headline KPIs", vec![], reference("kpi_globaux")),
        "/kpis/clv": operation("Customer lifetime value, largest first",
            [vec![param("id_client", id(), "one client")], limit_offset()].concat(), data_of("kpi_clv")),
        "/kpis/rfm/clients": operation("Buyers of one RFM segment, largest amount first",
            [vec![json!({ "name": "segment", "in": "query", "required": true, "schema": plain("RFM segment, e.g. Champions"), "description": "the segment" })], limit_offset()].concat(),
            data_of("dim_rfm")),
        "/qualite/quarantaine": operation("Quarantined rows with their source file and line", [vec![
            param("entite", text(&["clients", "achats"]), "one entity"),
            param("raison", plain("quarantine reason, e.g. montant_invalide"), "one reason"),
            param("fichier", plain("source file name, e.g. achats.csv"), "one source file"),
        ], limit_offset()].concat(), data_of("quarantine")),
        "/ventes": operation("Revenue by grain", vec![
            param("grain", text(&["jour", "semaine", "mois", "heure", "pays"]), "grain (default jour)"),
            param("debut", date(), "first day (time grains only: 400 with heure or pays)"),
            param("fin", date(), "last day, inclusive (time grains only: 400 with heure or pays)"),
        ], data_of("vente")),
        "/analytics/saisonnalite": operation("Seasonality indices", vec![
            param("dimension", text(&["jour_semaine", "mois", "heure"]), "one dimension"),
        ], data_of("saisonnalite")),
        "/analytics/concentration": operation("Gini, Pareto shares and the Lorenz curve", vec![], concentration),
        "/analytics/cohortes": operation("Cohort retention", vec![
            param("cohorte", date(), "first day of one cohort month"),
        ], data_of("cohortes")),
        "/clients": operation("Clients, largest revenue first",
            [vec![param("pays", plain("country (French name)"), "country")], limit_offset()].concat(), data_of("dim_clients")),
        "/clients/{id}": {
            "get": {
                "summary": "One client: profile, RFM, CLV, ML segment and churn score, latest purchases",
                "parameters": [{ "name": "id", "in": "path", "required": true, "schema": id() }],
                "responses": {
                    "200": { "description": "OK", "content": { "application/json": { "schema": client } } },
                    "400": { "description": "not a client id", "content": { "application/json": { "schema": reference("Error") } } },
                    "404": { "description": "no such client", "content": { "application/json": { "schema": reference("Error") } } },
                    "503": { "description": "the store is unreachable; retry", "content": { "application/json": { "schema": reference("Error") } } }
                }
            }
        },
        "/achats": operation("Purchases, filtered, sorted, keyset-paginated", achats_params, achats_page),
        "/ml/churn": operation("Churn scores, highest first", [vec![
            param("risque", text(&["faible", "moyen", "élevé"]), "risk band"),
            param("score_min", json!({ "type": "number", "minimum": 0, "maximum": 1 }), "lowest score"),
            param("id_client", id(), "one client"),
        ], limit_offset()].concat(), data_of("scores_churn")),
        "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OK" } } } }
    });
    for (table, route) in catalogue.routes() {
        paths[route.path.as_str()] = operation(&table.summary, vec![], data_of(&table.table));
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "lake API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The published Gold of the e-commerce lake (KPIs, facts, analytics, ML scores), read-only. Errors are JSON: {\"error\": {\"code\", \"message\", \"parameter\"}}. With an API key configured, send it in the x-api-key header (not needed for /health and /openapi.json)."
        },
        "paths": paths,
        "components": { "schemas": schemas }
    })
}

pub async fn document(state: actix_web::web::Data<super::AppState>) -> HttpResponse {
    HttpResponse::Ok().json(openapi_for(state.catalogue, state.live.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every column a declaration names (a route's order, an index) is a column of the table's
    /// documented rows, and every served table has its row schema: a column renamed in a model
    /// but not in its header fails here.
    #[test]
    fn declarations_name_columns_of_the_documented_rows() {
        let catalogue = ServingCatalogue::embedded().expect("catalogue");
        let schemas = table_schemas();
        for table in catalogue.tables() {
            let schema = schemas.get(&table.table).unwrap_or_else(|| {
                panic!("{} has no row schema in contract/tables.json", table.key)
            });
            let columns = schema["properties"].as_object().expect("properties");
            let declared = table
                .serving
                .route
                .iter()
                .flat_map(|r| &r.order)
                .chain(table.serving.indexes.iter().flatten());
            for key in declared {
                assert!(
                    columns.contains_key(&key.column),
                    "{} declares {} but has no such column",
                    table.key,
                    key.column
                );
            }
        }
    }

    #[test]
    fn listings_are_documented_with_their_rows() {
        let catalogue = ServingCatalogue::embedded().expect("catalogue");
        let document = openapi(catalogue);
        let grid = &document["paths"]["/kpis/rfm/grille"]["get"];
        assert!(
            grid["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("The R × F grid"))
        );
        let items = &grid["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
            ["data"]["items"];
        assert_eq!(items["$ref"], "#/components/schemas/kpi_rfm_grille");
        let rows = &document["components"]["schemas"]["kpi_rfm_grille"];
        let required: Vec<&str> = rows["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
        assert_eq!(
            required,
            [
                "r_score",
                "f_score",
                "segment",
                "nb_clients",
                "part_clients",
                "ca",
                "part_ca"
            ]
        );
    }

    #[test]
    fn arrow_types_map_to_json_types() {
        use datafusion::arrow::datatypes::{Field, TimeUnit};
        let schema = Schema::new(vec![
            Field::new("n", DataType::Int64, false),
            Field::new("m", DataType::Decimal128(12, 2), true),
            Field::new("d", DataType::Date32, false),
            Field::new("t", DataType::Timestamp(TimeUnit::Microsecond, None), false),
            Field::new("b", DataType::Boolean, false),
            Field::new("s", DataType::Utf8View, true),
        ]);
        let rows = row_schema(&schema);
        assert_eq!(rows["required"], json!(["n", "m", "d", "t", "b", "s"]));
        let p = &rows["properties"];
        assert_eq!(p["n"], json!({ "type": "integer" }));
        assert_eq!(p["m"], json!({ "type": "number", "nullable": true }));
        assert_eq!(p["d"], json!({ "type": "string", "format": "date" }));
        assert_eq!(p["t"]["type"], "string");
        assert_eq!(p["b"], json!({ "type": "boolean" }));
        assert_eq!(p["s"], json!({ "type": "string", "nullable": true }));
    }
}
