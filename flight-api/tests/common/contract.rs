//! The contract of the HTTP API on the golden fixtures, checked against any store: expected
//! values are worked by hand in core/tests/golden.rs.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use super::{Api, get};

pub fn close(value: &Value, expected: f64, what: &str) {
    let found = value
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {value} is not a number"));
    assert!(
        (found - expected).abs() <= 1e-9 * expected.abs().max(1.0),
        "{what}: {found} instead of {expected}"
    );
}

pub fn data(body: &Value) -> &Vec<Value> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {body}"))
}

/// Ids of every purchase a paginated /achats listing returns, following `next`.
pub async fn all_pages(api: &Api, query: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut path = format!("/achats?{query}");
    for _ in 0..100 {
        let (status, body) = get(api, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        rows.extend(data(&body).iter().cloned());
        match body["next"].as_str() {
            None => return rows,
            Some(cursor) => {
                let cursor: String = cursor
                    .bytes()
                    .map(|b| match b {
                        b'~' | b'-' | b'.' | b'_' | b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' => {
                            (b as char).to_string()
                        }
                        other => format!("%{other:02X}"),
                    })
                    .collect();
                path = format!("/achats?{query}&apres={cursor}");
            }
        }
    }
    panic!("more than 100 pages for {query}")
}

/// Every endpoint against the hand-checked values of the golden lake at `lake`, served by
/// `store` (`lake` or `mongodb`).
pub async fn hand_checked_values(api: &Api, lake: &Path, store: &str) {
    let (status, health) = get(api, "/health").await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let manifest: Value = serde_json::from_str(
        &std::fs::read_to_string(lake.join("gold/_current.json")).expect("gold pointer"),
    )
    .expect("json");
    let (_, freshness) = get(api, "/freshness").await;
    assert_eq!(freshness["gold_version"], manifest["run_id"]);
    assert_eq!(freshness["as_of"], "2025-07-01 00:00:00");
    assert_eq!(freshness["store"], store);
    assert!(freshness["ml_version"].is_string(), "{freshness}");

    let (_, g) = get(api, "/kpis/globaux").await;
    close(&g["ca_total"], 810.0, "ca_total");
    assert_eq!(g["nb_achats"], 12);
    assert_eq!(g["nb_clients_acheteurs"], 7);
    assert_eq!(g["nb_clients_inscrits"], 8);
    close(&g["panier_moyen"], 67.5, "panier_moyen");
    assert_eq!(
        (&g["date_min"], &g["date_max"], &g["ref_date"]),
        (
            &json!("2025-03-03"),
            &json!("2025-06-28"),
            &json!("2025-06-29")
        )
    );

    // dim_rfm: Fidèles c1 (300) c4 (100); En hibernation c2 (50) c5 (25) c8 (45); À risque
    // c3 (210); Nouveaux c6 (80). Largest first, ties by name.
    let (_, rfm) = get(api, "/kpis/rfm").await;
    let segments: Vec<(&str, i64)> = data(&rfm)
        .iter()
        .map(|r| {
            (
                r["segment"].as_str().unwrap_or(""),
                r["nb_clients"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        segments,
        [
            ("En hibernation", 3),
            ("Fidèles", 2),
            ("Nouveaux", 1),
            ("À risque", 1)
        ]
    );
    close(&data(&rfm)[1]["ca"], 400.0, "ca Fidèles");
    close(&data(&rfm)[1]["part_ca"], 400.0 / 810.0, "part_ca Fidèles");
    close(
        &data(&rfm)[0]["recence_moyenne"],
        (70.0 + 88.0 + 75.0) / 3.0,
        "recence En hibernation",
    );

    let (_, months) = get(api, "/ventes?grain=mois").await;
    let months: Vec<(String, f64)> = data(&months)
        .iter()
        .map(|r| {
            (
                r["mois"].as_str().unwrap_or("").to_string(),
                r["ca"].as_f64().unwrap_or(-1.0),
            )
        })
        .collect();
    assert_eq!(
        months,
        [
            ("2025-03-01".to_string(), 320.0),
            ("2025-04-01".to_string(), 150.0),
            ("2025-05-01".to_string(), 70.0),
            ("2025-06-01".to_string(), 270.0)
        ]
    );
    let (_, weeks) = get(api, "/ventes?grain=semaine&fin=2025-03-17").await;
    let weeks: Vec<f64> = data(&weeks)
        .iter()
        .filter_map(|r| r["ca"].as_f64())
        .collect();
    assert_eq!(weeks, [100.0, 20.0, 200.0]);
    let (_, day) = get(api, "/ventes?grain=jour&debut=2025-06-28&fin=2025-06-28").await;
    assert_eq!(data(&day).len(), 1);
    close(&data(&day)[0]["ca"], 80.0, "ca 2025-06-28");
    let (_, countries) = get(api, "/ventes?grain=pays").await;
    let france = data(&countries)
        .iter()
        .find(|r| r["pays"] == "France")
        .expect("France");
    close(&france["ca"], 350.0, "ca France");
    assert_eq!(
        (france["nb_achats"].as_i64(), france["nb_clients"].as_i64()),
        (Some(5), Some(2))
    );
    close(&france["part_ca"], 350.0 / 810.0, "part_ca France");
    let (_, hours) = get(api, "/ventes?grain=heure").await;
    let ten = data(&hours)
        .iter()
        .find(|r| r["heure"] == 10)
        .expect("10 h");
    close(&ten["panier_moyen"], 75.0, "panier 10 h");

    let (_, c1) = get(api, "/clients/1").await;
    assert_eq!(c1["profil"]["nb_achats"], 3);
    close(&c1["profil"]["ca_total"], 300.0, "ca_total c1");
    assert_eq!(c1["profil"]["premier_achat"], "2025-03-03T10:15:00");
    assert_eq!(c1["rfm"]["rfm_code"], "355");
    assert_eq!(c1["rfm"]["segment"], "Fidèles");
    close(&c1["clv"]["clv_12m"], 300.0 * 365.25 / 118.0, "clv_12m c1");
    assert_eq!(c1["derniers_achats"].as_array().map(Vec::len), Some(3));
    assert!(c1["segment_ml"]["libelle"].is_string(), "{c1}");
    // A client without purchases: a profile, no RFM, no CLV, no segment.
    let (status, c7) = get(api, "/clients/7").await;
    assert_eq!(status, 200);
    assert_eq!(c7["profil"]["nb_achats"], 0);
    assert!(c7["rfm"].is_null() && c7["clv"].is_null() && c7["segment_ml"].is_null());
    assert_eq!(c7["derniers_achats"], json!([]));

    let (_, clients) = get(api, "/clients?limit=2").await;
    let ids: Vec<i64> = data(&clients)
        .iter()
        .filter_map(|r| r["id_client"].as_i64())
        .collect();
    assert_eq!(ids, [1, 3], "largest revenue first: c1 300, c3 210");
    let (_, clients) = get(api, "/clients?pays=France").await;
    assert!(data(&clients).iter().all(|r| r["pays"] == "France"));

    let (_, produits) = get(api, "/produits").await;
    let livre = data(&produits)
        .iter()
        .find(|r| r["produit"] == "Livre")
        .expect("Livre");
    assert_eq!(
        (livre["nb_achats"].as_i64(), livre["nb_clients"].as_i64()),
        (Some(5), Some(4))
    );
    close(&livre["ca"], 245.0, "ca Livre");
    close(&livre["prix_moyen"], 49.0, "prix_moyen Livre");

    let (_, concentration) = get(api, "/analytics/concentration").await;
    assert_eq!(concentration["nb_clients"], 7);
    assert_eq!(concentration["lorenz"].as_array().map(Vec::len), Some(101));
    let (_, saison) = get(api, "/analytics/saisonnalite?dimension=heure").await;
    assert!(!data(&saison).is_empty());
    assert!(data(&saison).iter().all(|r| r["dimension"] == "heure"));
    for path in [
        "/kpis/retention",
        "/kpis/croissance",
        "/kpis/produits",
        "/kpis/clv",
        "/analytics/cohortes",
    ] {
        let (status, body) = get(api, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(!data(&body).is_empty(), "{path}");
    }
    let (_, clv) = get(api, "/kpis/clv?id_client=6").await;
    close(&data(&clv)[0]["clv_12m"], 960.0, "clv_12m c6");

    // ML: 7 buyers in the segments; too short a history for a churn model, and the report
    // says so.
    let (_, segments) = get(api, "/ml/segments").await;
    let in_segments: i64 = data(&segments)
        .iter()
        .filter_map(|r| r["nb_clients"].as_i64())
        .sum();
    assert_eq!(in_segments, 7);
    let (_, churn) = get(api, "/ml/churn").await;
    assert_eq!(data(&churn).len(), 0);
    let (_, report) = get(api, "/ml/rapport").await;
    let status_row = data(&report)
        .iter()
        .find(|r| r["modele"] == "churn" && r["indicateur"] == "statut")
        .expect("churn status");
    assert!(
        status_row["texte"]
            .as_str()
            .is_some_and(|t| t.starts_with("non entraîné")),
        "{status_row}"
    );
    dashboard_aggregates(api).await;
    data_quality(api).await;
}

/// The dashboard's grids: R × F cells, a segment's buyers, CLV deciles (see golden.rs).
async fn dashboard_aggregates(api: &Api) {
    let (_, grille) = get(api, "/kpis/rfm/grille").await;
    let cells: Vec<(i64, i64, i64)> = data(&grille)
        .iter()
        .map(|r| {
            let n = |k: &str| r[k].as_i64().unwrap_or(-1);
            (n("r_score"), n("f_score"), n("nb_clients"))
        })
        .collect();
    assert_eq!(
        cells,
        [
            (1, 1, 1),
            (1, 2, 1),
            (2, 2, 1),
            (2, 3, 1),
            (3, 5, 1),
            (4, 4, 1),
            (5, 1, 1)
        ]
    );
    close(&data(&grille)[4]["ca"], 300.0, "ca of cell (3, 5)");

    // En hibernation: c2 (50), c8 (45), c5 (25), largest amount first; pages of two.
    let ids = |body: &Value| -> Vec<i64> {
        data(body)
            .iter()
            .filter_map(|r| r["id_client"].as_i64())
            .collect()
    };
    let (_, first) = get(api, "/kpis/rfm/clients?segment=En%20hibernation&limit=2").await;
    let (_, second) = get(
        api,
        "/kpis/rfm/clients?segment=En%20hibernation&limit=2&offset=2",
    )
    .await;
    assert_eq!((ids(&first), ids(&second)), (vec![2, 8], vec![5]));
    let (status, missing) = get(api, "/kpis/rfm/clients").await;
    assert_eq!(
        (status, &missing["error"]["parameter"]),
        (400, &json!("segment"))
    );

    // clv_12m ascending: c5, c2, c8, c4, c3, c1, c6 (960): one buyer per decile.
    let (_, deciles) = get(api, "/kpis/clv/deciles").await;
    let deciles = data(&deciles);
    assert_eq!(deciles.len(), 7);
    assert_eq!(deciles[0]["decile"], 1);
    close(&deciles[0]["clv_min"], 25.0 * 365.25 / 88.0, "decile 1");
    close(&deciles[6]["clv_max"], 960.0, "decile 7");
}

/// `/qualite` and `/qualite/quarantaine` (see golden.rs, quarantine_and_quality).
async fn data_quality(api: &Api) {
    let (_, report) = get(api, "/qualite").await;
    let failures = |table: &str, check: &str| -> i64 {
        data(&report)
            .iter()
            .find(|r| r["table"] == table && r["controle"] == check)
            .and_then(|r| r["nb_echecs"].as_i64())
            .unwrap_or_else(|| panic!("no {table}.{check} in {report}"))
    };
    assert_eq!(failures("achats", "taux_quarantaine"), 10);
    assert_eq!(failures("achats", "quarantaine_client_inconnu"), 2);
    assert_eq!(failures("clients", "email_corrige"), 1);

    let rows = |body: &Value| -> Vec<(String, String, i64)> {
        data(body)
            .iter()
            .map(|r| {
                (
                    r["entite"].as_str().unwrap_or("").to_string(),
                    r["raison"].as_str().unwrap_or("").to_string(),
                    r["ligne_source"].as_i64().unwrap_or(-1),
                )
            })
            .collect()
    };
    let (_, all) = get(api, "/qualite/quarantaine").await;
    assert_eq!(data(&all).len(), 11);
    assert_eq!(
        rows(&all)[0],
        ("achats".to_string(), "montant_invalide".to_string(), 15)
    );
    assert_eq!(data(&all)[0]["fichier_source"], "achats.csv");
    assert_eq!(data(&all)[0]["id_achat"], "13");
    let (_, unknown) = get(api, "/qualite/quarantaine?raison=client_inconnu").await;
    let unknown: Vec<i64> = rows(&unknown).iter().map(|r| r.2).collect();
    assert_eq!(unknown, [20, 23]);
    let (_, clients) = get(
        api,
        "/qualite/quarantaine?entite=clients&fichier=clients.csv",
    )
    .await;
    assert_eq!(
        rows(&clients),
        [("clients".to_string(), "id_client_invalide".to_string(), 8)]
    );
    let (_, page) = get(api, "/qualite/quarantaine?entite=achats&limit=3&offset=9").await;
    assert_eq!(
        rows(&page),
        [("achats".to_string(), "ligne_malformee".to_string(), 24)]
    );
}

/// `/achats` pagination, order and filters on the golden lake.
pub async fn purchases_paging(api: &Api) {
    // 12 purchases in Gold; pages of 5 by date, newest first.
    let rows = all_pages(api, "limit=5").await;
    let ids: Vec<i64> = rows.iter().filter_map(|r| r["id_achat"].as_i64()).collect();
    assert_eq!(ids.len(), 12, "{ids:?}");
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        12,
        "a purchase twice: {ids:?}"
    );
    let dates: Vec<&str> = rows
        .iter()
        .filter_map(|r| r["date_achat"].as_str())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "{dates:?}");

    // By amount, ascending, pages of 4: sorted by (montant, id_achat).
    let rows = all_pages(api, "tri=montant&ordre=asc&limit=4").await;
    let keys: Vec<(f64, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["montant"].as_f64().unwrap_or(-1.0),
                r["id_achat"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(keys.len(), 12);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");

    // Filters: client 1 bought 3 times; France 5 purchases; April: 4 purchases for 150.
    assert_eq!(all_pages(api, "client=1").await.len(), 3);
    assert_eq!(all_pages(api, "pays=France&limit=2").await.len(), 5);
    let april = all_pages(api, "debut=2025-04-01&fin=2025-04-30").await;
    let total: f64 = april.iter().filter_map(|r| r["montant"].as_f64()).sum();
    assert_eq!((april.len(), total), (4, 150.0));
}
