//! `/openapi.json`: the OpenAPI 3.0 document of the API, built from the same table catalogue
//! the handlers read, so the schema and the data share one source of truth (property-based
//! clients such as Schemathesis check the responses against it).

use actix_web::HttpResponse;
use lake_mongo::stream::{DEFAULT_TOPIC, EVENT_TYPES, RULES};
use serde_json::{Value as Json, json};

use super::params::{DEFAULT_LIMIT, MAX_LIMIT};

#[derive(Clone, Copy)]
enum Kind {
    Bool,
    Int,
    Num,
    Text,
    Date,
    DateTime,
}

use Kind::{Bool, Date, DateTime, Int, Num, Text};

/// Columns of every table the API serves, as the Gold SQL models and the ML stage write them.
const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "kpi_globaux",
        &[
            ("ca_total", Num),
            ("nb_achats", Int),
            ("nb_clients_acheteurs", Int),
            ("nb_clients_inscrits", Int),
            ("panier_moyen", Num),
            ("clv_moyenne", Num),
            ("taux_retention_moyen", Num),
            ("gini", Num),
            ("part_ca_top20", Num),
            ("date_min", Date),
            ("date_max", Date),
            ("ref_date", Date),
        ],
    ),
    (
        "kpi_clv",
        &[
            ("id_client", Int),
            ("ca_total", Num),
            ("nb_achats", Int),
            ("panier_moyen", Num),
            ("anciennete_jours", Int),
            ("frequence_mensuelle", Num),
            ("clv_historique", Num),
            ("clv_12m", Num),
        ],
    ),
    (
        "kpi_retention",
        &[
            ("mois", Date),
            ("clients_actifs", Int),
            ("clients_actifs_mois_precedent", Int),
            ("clients_retenus", Int),
            ("nouveaux_clients", Int),
            ("taux_retention", Num),
            ("taux_churn", Num),
        ],
    ),
    (
        "kpi_rfm",
        &[
            ("segment", Text),
            ("nb_clients", Int),
            ("part_clients", Num),
            ("ca", Num),
            ("part_ca", Num),
            ("recence_moyenne", Num),
            ("frequence_moyenne", Num),
            ("montant_moyen", Num),
        ],
    ),
    (
        "kpi_rfm_grille",
        &[
            ("r_score", Int),
            ("f_score", Int),
            ("segment", Text),
            ("nb_clients", Int),
            ("part_clients", Num),
            ("ca", Num),
            ("part_ca", Num),
        ],
    ),
    (
        "kpi_clv_deciles",
        &[
            ("decile", Int),
            ("nb_clients", Int),
            ("clv_min", Num),
            ("clv_max", Num),
            ("clv_moyenne", Num),
            ("clv_totale", Num),
            ("part_clv", Num),
        ],
    ),
    (
        "quality",
        &[
            ("table", Text),
            ("colonne", Text),
            ("dimension", Text),
            ("controle", Text),
            ("observe", Int),
            ("nb_echecs", Int),
            ("pct_echecs", Num),
            ("seuil", Num),
            ("bloquant", Bool),
            ("ok", Bool),
        ],
    ),
    (
        "quarantine",
        &[
            ("entite", Text),
            ("raison", Text),
            ("fichier_source", Text),
            ("ligne_source", Int),
            ("id_client", Text),
            ("nom", Text),
            ("email", Text),
            ("date_inscription", Text),
            ("pays", Text),
            ("id_achat", Text),
            ("date_achat", Text),
            ("montant", Text),
            ("produit", Text),
        ],
    ),
    (
        "kpi_produits",
        &[
            ("produit", Text),
            ("ca", Num),
            ("nb_achats", Int),
            ("nb_clients", Int),
            ("part_ca", Num),
            ("rang_ca", Int),
            ("ca_dernier_mois", Num),
            ("ca_mois_precedent", Num),
            ("croissance_mom", Num),
        ],
    ),
    (
        "kpi_croissance",
        &[
            ("mois", Date),
            ("ca", Num),
            ("ca_mois_precedent", Num),
            ("croissance_mom", Num),
            ("ca_annee_precedente", Num),
            ("croissance_yoy", Num),
        ],
    ),
    (
        "vente",
        &[
            ("date", Date),
            ("semaine", Date),
            ("mois", Date),
            ("heure", Int),
            ("pays", Text),
            ("ca", Num),
            ("nb_achats", Int),
            ("nb_clients", Int),
            ("panier_moyen", Num),
            ("part_ca", Num),
        ],
    ),
    (
        "saisonnalite",
        &[
            ("dimension", Text),
            ("valeur", Int),
            ("ca_moyen", Num),
            ("indice", Num),
        ],
    ),
    ("lorenz", &[("part_clients", Num), ("part_ca_cumulee", Num)]),
    (
        "cohortes",
        &[
            ("cohorte", Date),
            ("mois_relatif", Int),
            ("taille_cohorte", Int),
            ("clients_actifs", Int),
            ("taux_retention", Num),
        ],
    ),
    (
        "dim_clients",
        &[
            ("id_client", Int),
            ("nom", Text),
            ("email", Text),
            ("date_inscription", Date),
            ("pays", Text),
            ("premier_achat", DateTime),
            ("dernier_achat", DateTime),
            ("nb_achats", Int),
            ("ca_total", Num),
        ],
    ),
    (
        "dim_rfm",
        &[
            ("id_client", Int),
            ("recence_jours", Int),
            ("frequence", Int),
            ("montant", Num),
            ("r_score", Int),
            ("f_score", Int),
            ("m_score", Int),
            ("rfm_code", Text),
            ("segment", Text),
        ],
    ),
    (
        "dim_produits",
        &[
            ("produit", Text),
            ("nb_achats", Int),
            ("ca", Num),
            ("prix_moyen", Num),
            ("nb_clients", Int),
            ("premiere_vente", DateTime),
            ("derniere_vente", DateTime),
        ],
    ),
    (
        "fact_achats",
        &[
            ("id_achat", Int),
            ("id_client", Int),
            ("date_achat", DateTime),
            ("montant", Num),
            ("produit", Text),
            ("pays", Text),
            ("date", Date),
            ("heure", Int),
            ("annee", Int),
            ("mois", Int),
            ("jour_semaine", Int),
        ],
    ),
    (
        "segments_ml",
        &[
            ("id_client", Int),
            ("segment_ml", Int),
            ("libelle", Text),
            ("distance_centre", Num),
        ],
    ),
    (
        "segments_profils",
        &[
            ("segment_ml", Int),
            ("libelle", Text),
            ("nb_clients", Int),
            ("part_clients", Num),
            ("centre_recence_jours", Num),
            ("centre_frequence", Num),
            ("centre_montant", Num),
            ("centre_panier_moyen", Num),
            ("centre_anciennete_jours", Num),
            ("silhouette", Num),
        ],
    ),
    (
        "scores_churn",
        &[("id_client", Int), ("score_churn", Num), ("risque", Text)],
    ),
    (
        "model_report",
        &[
            ("modele", Text),
            ("indicateur", Text),
            ("valeur", Num),
            ("texte", Text),
        ],
    ),
];

fn kind_schema(kind: Kind) -> Json {
    let mut schema = match kind {
        Bool => json!({ "type": "boolean" }),
        Int => json!({ "type": "integer" }),
        Num => json!({ "type": "number" }),
        Text => json!({ "type": "string" }),
        Date => json!({ "type": "string", "format": "date" }),
        DateTime => {
            json!({ "type": "string", "pattern": "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}" })
        }
    };
    // Gold has NULLs where a figure has no base (a growth without a previous month…).
    schema["nullable"] = json!(true);
    schema
}

fn table_schema(columns: &[(&str, Kind)]) -> Json {
    let properties: serde_json::Map<String, Json> = columns
        .iter()
        .map(|(name, kind)| (name.to_string(), kind_schema(*kind)))
        .collect();
    json!({ "type": "object", "properties": properties })
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
pub fn openapi_for(live: bool) -> Json {
    let mut document = openapi();
    if live {
        for (path, operation) in live_paths() {
            document["paths"][path] = operation;
        }
        let schemas = &mut document["components"]["schemas"];
        schemas["fenetre"] = table_schema(&[
            ("window_start", DateTime),
            ("window_start_ms", Int),
            ("window_end_ms", Int),
            ("type", Text),
            ("pays", Text),
            ("nb", Int),
            ("montant", Num),
            ("written_at", DateTime),
        ]);
        schemas["alerte"] = table_schema(&[
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
pub fn openapi() -> Json {
    let mut schemas: serde_json::Map<String, Json> = TABLES
        .iter()
        .map(|(name, columns)| (name.to_string(), table_schema(columns)))
        .collect();
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
    let mut concentration = table_schema(&[
        ("nb_clients", Int),
        ("gini", Num),
        ("part_ca_top20", Num),
        ("part_clients_80pct", Num),
    ]);
    concentration["properties"]["lorenz"] =
        json!({ "type": "array", "items": reference("lorenz") });
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
    let paths = json!({
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
        "/kpis/clv/deciles": operation("The 12-month CLV over all buyers, by decile", vec![], data_of("kpi_clv_deciles")),
        "/kpis/rfm/grille": operation("The R × F grid: buyers and revenue per score pair", vec![], data_of("kpi_rfm_grille")),
        "/kpis/rfm/clients": operation("Buyers of one RFM segment, largest amount first",
            [vec![json!({ "name": "segment", "in": "query", "required": true, "schema": plain("RFM segment, e.g. Champions"), "description": "the segment" })], limit_offset()].concat(),
            data_of("dim_rfm")),
        "/qualite": operation("The Silver quality report of the served Gold: one row per check", vec![], data_of("quality")),
        "/qualite/quarantaine": operation("Quarantined rows with their source file and line", [vec![
            param("entite", text(&["clients", "achats"]), "one entity"),
            param("raison", plain("quarantine reason, e.g. montant_invalide"), "one reason"),
            param("fichier", plain("source file name, e.g. achats.csv"), "one source file"),
        ], limit_offset()].concat(), data_of("quarantine")),
        "/kpis/retention": operation("Monthly retention", vec![], data_of("kpi_retention")),
        "/kpis/rfm": operation("RFM segments: buyers and revenue", vec![], data_of("kpi_rfm")),
        "/kpis/produits": operation("Products by revenue", vec![], data_of("kpi_produits")),
        "/kpis/croissance": operation("Monthly growth", vec![], data_of("kpi_croissance")),
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
        "/produits": operation("Products", vec![], data_of("dim_produits")),
        "/achats": operation("Purchases, filtered, sorted, keyset-paginated", achats_params, achats_page),
        "/ml/segments": operation("ML segments: size, centre, name", vec![], data_of("segments_profils")),
        "/ml/churn": operation("Churn scores, highest first", [vec![
            param("risque", text(&["faible", "moyen", "élevé"]), "risk band"),
            param("score_min", json!({ "type": "number", "minimum": 0, "maximum": 1 }), "lowest score"),
            param("id_client", id(), "one client"),
        ], limit_offset()].concat(), data_of("scores_churn")),
        "/ml/rapport": operation("Model report: metrics, weights, cutoffs, data version", vec![], data_of("model_report")),
        "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OK" } } } }
    });
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
    HttpResponse::Ok().json(openapi_for(state.live.is_some()))
}
