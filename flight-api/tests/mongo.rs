//! MongoDB as the serving store, on a real MongoDB-protocol server (FerretDB): the loader's
//! versioned collections and pointer switch, the API's contract on MongoDB (the same
//! hand-checked values as on the lake, and the same bodies), and recovery after an outage.

mod common;

use std::time::{Duration, Instant};

use common::contract::{hand_checked_values, purchases_paging};
use common::{Api, FerretDb, get, golden_lake, mongo_load, same_answer, served_pointer};
use flight_api::mongo::load::LoadOutcome;
use lake_core::RunSettings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_mongodb_answers_like_on_the_lake() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let ferret = FerretDb::start(dir.path());
    let LoadOutcome::Loaded { tables, .. } = mongo_load(&lake, &ferret.url()).await else {
        panic!("the first load must load");
    };
    assert_eq!(tables["fact_achats"].0, 12);
    assert_eq!(tables["dim_clients"].0, 8);

    let on_mongo = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    hand_checked_values(&on_mongo, &lake, "mongodb").await;
    purchases_paging(&on_mongo).await;

    // Every data endpoint gives the same body from both stores.
    let on_lake = Api::start(&lake, &[]);
    for path in [
        "/kpis/globaux",
        "/kpis/clv?limit=500",
        "/kpis/retention",
        "/kpis/rfm",
        "/kpis/produits",
        "/kpis/croissance",
        "/ventes?grain=jour",
        "/ventes?grain=semaine&debut=2025-03-10",
        "/ventes?grain=mois",
        "/ventes?grain=heure",
        "/ventes?grain=pays",
        "/analytics/saisonnalite",
        "/analytics/concentration",
        "/analytics/cohortes",
        "/clients?limit=500",
        "/clients/1",
        "/clients/7",
        "/produits",
        "/achats?limit=500",
        "/achats?tri=montant&ordre=asc&client=1",
        "/ml/segments",
        "/ml/churn",
        "/ml/rapport",
        "/kpis/rfm/grille",
        "/kpis/rfm/clients?segment=En%20hibernation",
        "/kpis/clv/deciles",
        "/qualite",
        "/qualite/quarantaine",
        "/qualite/quarantaine?entite=achats&raison=client_inconnu",
    ] {
        same_answer(&on_lake, &on_mongo, path).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_are_idempotent_switch_versions_and_drop_old_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let ferret = FerretDb::start(dir.path());
    let first = match mongo_load(&lake, &ferret.url()).await {
        LoadOutcome::Loaded { version, .. } => version,
        other => panic!("{other:?}"),
    };
    // The same Gold again: nothing to do.
    assert_eq!(
        mongo_load(&lake, &ferret.url()).await,
        LoadOutcome::Unchanged {
            version: first.clone()
        }
    );
    let api = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    let (_, before) = get(&api, "/freshness").await;

    // Two new Gold runs: each load switches the pointer; the previous version is kept for
    // readers in flight, older ones are dropped.
    let session = common::session_on(&lake).await;
    let as_of = chrono::NaiveDate::from_ymd_opt(2025, 7, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("as_of");
    let mut versions = vec![first];
    for _ in 0..2 {
        session
            .run_gold(&RunSettings::new(as_of), &[], |_| {})
            .await
            .expect("gold");
        match mongo_load(&lake, &ferret.url()).await {
            LoadOutcome::Loaded { version, .. } => versions.push(version),
            other => panic!("{other:?}"),
        }
    }
    let db = flight_api::mongo::connect(&ferret.url(), "lake")
        .await
        .expect("db");
    let names = db.list_collection_names().await.expect("collections");
    // A collection is named `<table>__<version tag>_<load time>`.
    let tag = |v: &str| format!("__{}_", flight_api::mongo::layout::version_tag(v));
    assert!(
        !names.iter().any(|n| n.contains(&tag(&versions[0]))),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains(&tag(&versions[1]))),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains(&tag(&versions[2]))),
        "{names:?}"
    );

    // The API follows the pointer without a restart (it re-reads it at most once a second).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, now) = get(&api, "/freshness").await;
        if now["gold_version"] != before["gold_version"] {
            assert_eq!(now["store"], "mongodb");
            break;
        }
        assert!(Instant::now() < deadline, "still serving {before}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_server_gives_503_then_the_api_recovers_by_itself() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let mut ferret = FerretDb::start(dir.path());
    mongo_load(&lake, &ferret.url()).await;
    let api = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    assert_eq!(get(&api, "/kpis/globaux").await.0, 200);

    ferret.stop();
    // Past the one-second pointer cache, every read goes to the server: 503 within the driver's
    // 2 s server-selection timeout (bounded here at 15 s).
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = get(&api, "/kpis/globaux").await;
        if status == 503 {
            assert_eq!(body["error"]["code"], "unavailable");
            break;
        }
        assert_eq!(status, 200, "{body}");
        assert!(Instant::now() < deadline, "no 503 after the server stopped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(get(&api, "/health").await.0, 503);

    ferret.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(&api, "/kpis/globaux").await;
        if status == 200 {
            assert_eq!(body["nb_achats"], 12);
            break;
        }
        assert!(Instant::now() < deadline, "not recovered: {status} {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The `lake` binary, built beside `lake-api` by the workspace build (`make test` builds every
/// binary first).
fn lake_binary() -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_lake-api")).with_file_name("lake");
    assert!(
        path.is_file(),
        "{} is missing: build the workspace binaries first (cargo build --workspace --bins)",
        path.display()
    );
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_polling_during_a_load_never_sees_two_versions_at_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let ferret = FerretDb::start(dir.path());
    mongo_load(&lake, &ferret.url()).await;
    let api = Api::start(&lake, &["--mongo-url", &ferret.url()]);

    // A new Gold where client 1 has a fourth purchase.
    let sources = dir.path().join("sources");
    std::fs::write(
        sources.join("achats_extra.csv"),
        "id_achat,id_client,date_achat,montant,produit\n900,1,2025-06-20 10:00:00,10.00,Livre\n",
    )
    .expect("extra purchase");
    let session = common::session_on(&lake).await;
    session.ingest(&sources, |_| {}).await.expect("ingest");
    let settings = common::golden_settings();
    session.run_silver(&settings, |_| {}).await.expect("silver");
    session
        .run_gold(&settings, &[], |_| {})
        .await
        .expect("gold");

    let url = ferret.url();
    let load = tokio::spawn(async move { mongo_load(&lake, &url).await });
    // One response reads four collections: the profile, RFM, CLV and purchases must all come
    // from one version (3 purchases before, 4 after).
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = std::collections::BTreeSet::new();
    while !seen.contains(&4) {
        let (status, c1) = get(&api, "/clients/1").await;
        assert_eq!(status, 200, "{c1}");
        let counts = (
            c1["profil"]["nb_achats"].as_i64(),
            c1["rfm"]["frequence"].as_i64(),
            c1["clv"]["nb_achats"].as_i64(),
            c1["derniers_achats"].as_array().map(|a| a.len() as i64),
        );
        let n = counts.0.expect("nb_achats");
        assert_eq!(
            counts,
            (Some(n), Some(n), Some(n), Some(n)),
            "a mixed response: {c1}"
        );
        seen.insert(n);
        assert!(
            Instant::now() < deadline,
            "the new version never showed: {seen:?}"
        );
    }
    assert_eq!(seen, [3, 4].into());
    load.await.expect("load task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_killed_midway_leaves_the_previous_version_serving() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = common::generated_lake(dir.path(), 0.1).await;
    let ferret = FerretDb::start(dir.path());
    mongo_load(&lake, &ferret.url()).await;
    let api = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    let (_, before) = get(&api, "/freshness").await;
    let (_, kpis) = get(&api, "/kpis/globaux").await;

    // A new Gold run, loaded by the `lake` binary, killed once its first collection exists.
    let session = common::session_on(&lake).await;
    let as_of = lake_generator::GenerateConfig::default_as_of();
    session
        .run_gold(&RunSettings::new(as_of), &[], |_| {})
        .await
        .expect("gold");
    let mut loader = std::process::Command::new(lake_binary())
        .args(["--lake", &lake.to_string_lossy(), "mongo", "load"])
        .args(["--mongo-url", &ferret.url()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("lake mongo load starts");
    let db = flight_api::mongo::connect(&ferret.url(), "lake")
        .await
        .expect("db");
    let old_tag =
        flight_api::mongo::layout::version_tag(before["gold_version"].as_str().expect("version"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let names = db.list_collection_names().await.expect("collections");
        let started = names.iter().any(|n| {
            flight_api::mongo::layout::version_of_collection(n)
                .is_some_and(|v| !v.starts_with(&old_tag))
        });
        if started {
            break;
        }
        assert!(
            loader.try_wait().expect("loader status").is_none(),
            "the load finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "the load never started writing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    loader.kill().expect("kill -9");
    loader.wait().expect("reaped");

    // The pointer did not move: the same version, the same answers, also for an API started
    // now (which has nothing cached).
    let pointer = served_pointer(&db).await;
    assert_eq!(
        Some(pointer.gold_version.as_str()),
        before["gold_version"].as_str()
    );
    let fresh = Api::start(&lake, &["--mongo-url", &ferret.url()]);
    let (_, after) = get(&fresh, "/freshness").await;
    assert_eq!(after["gold_version"], before["gold_version"]);
    assert_eq!(get(&fresh, "/kpis/globaux").await.1, kpis);
    assert_eq!(get(&api, "/kpis/globaux").await.1, kpis);

    // The next load completes, replacing the dead load's leftovers.
    let LoadOutcome::Loaded { tables, .. } = mongo_load(&lake, &ferret.url()).await else {
        panic!("the new version must load");
    };
    assert_eq!(
        tables["fact_achats"].0,
        kpis["nb_achats"].as_u64().expect("count")
    );
}

/// `lake bench refresh`: every load reloads every table (with the lake's row counts), the API
/// it started answers each new load, and the results are written; only the last two
/// generations of collections remain.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_refresh_times_each_load_and_the_switch_to_the_api() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let ferret = FerretDb::start(dir.path());
    let out = dir.path().join("results");
    let run = std::process::Command::new(lake_binary())
        .args(["--lake", &lake.to_string_lossy(), "bench", "refresh"])
        .args([
            "--mongo-url",
            &ferret.url(),
            "--loads",
            "3",
            "--label",
            "test",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("lake bench refresh runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "lake bench refresh failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let written: Vec<std::path::PathBuf> = std::fs::read_dir(&out)
        .expect("results folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let json = written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .expect("a JSON result");
    assert!(
        written
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "md")),
        "{written:?}"
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).expect("read")).expect("json");
    assert_eq!(results["loads"], 3);
    let samples = results["switch_to_api_ms"]["samples"]
        .as_array()
        .expect("samples");
    assert_eq!(samples.len(), 3, "{results}");
    let rows = |table: &str| {
        results["tables"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["table"] == table))
            .map(|t| t["documents"].clone())
    };
    // Hand-checked sizes of the golden fixtures.
    assert_eq!(rows("fact_achats"), Some(12.into()));
    assert_eq!(rows("dim_clients"), Some(8.into()));
    assert_eq!(rows("kpi_globaux"), Some(1.into()));

    // Three generations were loaded; the loader keeps the served one and the one before.
    let db = flight_api::mongo::connect(&ferret.url(), "lake")
        .await
        .expect("connect");
    let pointer = served_pointer(&db).await;
    assert!(pointer.version.contains('@'), "{}", pointer.version);
    let generations: std::collections::BTreeSet<String> = db
        .list_collection_names()
        .await
        .expect("list")
        .into_iter()
        .filter_map(|name| name.split_once("__").map(|(_, v)| v.to_string()))
        .collect();
    assert_eq!(generations.len(), 2, "{generations:?}");
}
