//! A lake whose tables are empty (clients, a purchase file with its header alone): the HTTP API
//! answers every endpoint with 200 and empty lists, Flight SQL serves the empty tables with
//! their columns, and the MongoDB loader loads them, after which the API on MongoDB answers
//! like the API on the lake.

mod common;

use std::process::Command;

use common::contract::data;
use common::{Api, FerretDb, get, lake_of_files, mongo_load, same_answer, venv_python};
use flight_api::mongo::load::LoadOutcome;
use serde_json::{Value, json};

const CLIENTS: &str = "id_client,nom,email,date_inscription,pays\n\
                       1,Alice Martin,alice@exemple.fr,2025-01-10,France\n\
                       2,Bruno Petit,bruno@exemple.fr,2025-02-01,Belgique\n";
const NO_PURCHASE: &str = "id_achat,id_client,date_achat,montant,produit\n";

/// Every data endpoint: (path, whether its body is a `data` list that must be empty).
const ENDPOINTS: [(&str, bool); 27] = [
    ("/kpis/clv", true),
    ("/kpis/clv/deciles", true),
    ("/kpis/rfm/grille", true),
    ("/kpis/rfm/clients?segment=Champions", true),
    ("/qualite/quarantaine", true),
    ("/kpis/retention", true),
    ("/kpis/rfm", true),
    ("/kpis/produits", true),
    ("/kpis/croissance", true),
    ("/ventes?grain=jour", true),
    ("/ventes?grain=semaine&debut=2025-03-10", true),
    ("/ventes?grain=mois", true),
    ("/ventes?grain=heure", true),
    ("/ventes?grain=pays", true),
    ("/analytics/saisonnalite", true),
    ("/analytics/cohortes", true),
    ("/produits", true),
    ("/achats", true),
    ("/achats?tri=montant&ordre=asc&client=1", true),
    ("/ml/segments", true),
    ("/ml/churn", true),
    ("/kpis/globaux", false),
    ("/analytics/concentration", false),
    ("/clients", false),
    ("/clients/1", false),
    ("/ml/rapport", false),
    ("/qualite", false),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_tables_are_served_by_http_flight_sql_and_mongodb() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = lake_of_files(dir.path(), CLIENTS, NO_PURCHASE).await;
    let on_lake = Api::start(&lake, &[]);

    for (path, empty_list) in ENDPOINTS {
        let (status, body) = get(&on_lake, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        if empty_list {
            assert!(data(&body).is_empty(), "{path}: {body}");
        }
    }
    let (_, kpis) = get(&on_lake, "/kpis/globaux").await;
    assert_eq!(
        (
            &kpis["ca_total"],
            &kpis["nb_achats"],
            &kpis["nb_clients_inscrits"],
            &kpis["gini"]
        ),
        (&json!(0.0), &json!(0), &json!(2), &Value::Null),
        "{kpis}"
    );
    let (_, clients) = get(&on_lake, "/clients").await;
    assert_eq!(data(&clients).len(), 2, "{clients}");
    let (_, alice) = get(&on_lake, "/clients/1").await;
    assert_eq!(alice["derniers_achats"], json!([]), "{alice}");

    // Flight SQL: the empty table keeps its columns.
    let script = format!(
        "import json, adbc_driver_flightsql.dbapi as f\n\
         with f.connect('{}') as c, c.cursor() as cur:\n\
         \x20   cur.execute('SELECT * FROM gold.fact_achats')\n\
         \x20   t = cur.fetch_arrow_table()\n\
         \x20   cur.execute('SELECT COUNT(*) FROM gold.kpi_retention')\n\
         \x20   n = cur.fetchone()[0]\n\
         print(json.dumps({{'rows': t.num_rows, 'columns': t.column_names, 'retention': n}}))",
        on_lake.flight
    );
    let out = Command::new(venv_python())
        .args(["-c", &script])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(seen["rows"], 0);
    assert_eq!(seen["retention"], 0);
    let columns = seen["columns"].as_array().expect("columns");
    for column in [
        "id_achat",
        "id_client",
        "date_achat",
        "montant",
        "produit",
        "pays",
    ] {
        assert!(columns.contains(&json!(column)), "{column} in {columns:?}");
    }

    // MongoDB: the load takes the empty tables, and the API reads the same bodies from it.
    let ferret = FerretDb::start(dir.path());
    let LoadOutcome::Loaded { tables, .. } = mongo_load(&lake, &ferret.url()).await else {
        panic!("the first load must load");
    };
    assert_eq!(tables["fact_achats"].0, 0);
    assert_eq!(tables["kpi_globaux"].0, 1);
    assert_eq!(tables["dim_clients"].0, 2);
    let on_mongo = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    for (path, _) in ENDPOINTS {
        same_answer(&on_lake, &on_mongo, path).await;
    }
}
