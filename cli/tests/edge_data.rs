//! Edge data on every engine: the small, clean or degenerate files a user brings first (no
//! defect at all, one purchase, one month, one day, nothing but quarantined rows, no purchase
//! file, a header-only purchase file, purchases before registration, amounts and dates exactly
//! at the thresholds, 29 February and a year boundary), hand-written here.
//!
//! Each dataset runs with `lake run` on Ballista standalone, on a 3-process cluster and on
//! DataFusion alone, each under a job timeout. The run completes, or fails with the documented
//! message and publishes nothing; every Silver, Gold and ML table exists with the columns and
//! types it has on ordinary data (the golden fixtures' lake); the three engines build the same
//! tables (`lake compare`); and the figures each dataset makes interesting equal values worked
//! out by hand below.

mod common;

use common::{Cluster, compare_every_layer, engines_harness, lake, ok, read_json};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use lake_core::models::{Materialized, SqlProject};
use lake_core::{EngineKind, LakeOptions, LakeSession, Layer};

const CLIENTS_HEADER: &str = "id_client,nom,email,date_inscription,pays\n";
const ACHATS_HEADER: &str = "id_achat,id_client,date_achat,montant,produit\n";
/// Every job of these runs must finish well within this (they take a fraction of a second).
const JOB_TIMEOUT: &str = "120";
const AS_OF: &str = "2026-01-01";

/// One hand-written dataset: its files and what `lake run` must do with them.
struct Dataset {
    name: &'static str,
    clients: &'static str,
    /// `None`: no purchase file at all.
    achats: Option<String>,
    /// Extra options of `lake run`.
    options: &'static [&'static str],
    /// `Some(text)`: the run must fail with this text in its error, publishing nothing.
    fails_with: Option<&'static str>,
}

impl Dataset {
    fn completes(name: &'static str, clients: &'static str, achats: &str) -> Self {
        Self {
            name,
            clients,
            achats: Some(format!("{ACHATS_HEADER}{achats}")),
            options: &[],
            fails_with: None,
        }
    }

    fn sources(&self, root: &Path) -> PathBuf {
        let folder = root.join(self.name).join("sources");
        std::fs::create_dir_all(&folder).expect("sources folder");
        std::fs::write(
            folder.join("clients.csv"),
            format!("{CLIENTS_HEADER}{}", self.clients),
        )
        .expect("clients.csv");
        if let Some(achats) = &self.achats {
            std::fs::write(folder.join("achats.csv"), achats).expect("achats.csv");
        }
        folder
    }
}

const ONE_CLIENT: &str = "1,Alice Martin,alice@exemple.fr,2025-01-10,France\n";
const TWO_CLIENTS: &str = "1,Alice Martin,alice@exemple.fr,2025-01-10,France\n\
                           2,Bruno Petit,bruno@exemple.fr,2025-02-01,Belgique\n";
const THREE_CLIENTS: &str = "1,Alice Martin,alice@exemple.fr,2025-01-10,France\n\
                             2,Bruno Petit,bruno@exemple.fr,2025-01-12,Belgique\n\
                             3,Chloé Durand,chloe@exemple.fr,2025-01-15,Suisse\n";

/// Three purchases that every engine quarantines: an unreadable amount, a negative one, and an
/// unreadable date.
const ALL_QUARANTINED: &str = "1,1,2025-03-03 10:00:00,abc,Livre\n\
                               2,1,2025-03-03 11:00:00,-5.00,Livre\n\
                               3,1,pas une date,10.00,Livre\n";

/// 60 purchases, 3 of them quarantined (5 % exactly): 10 000.00 is kept and 10 000.01 is
/// aberrant; 0.00 is not positive and 0.01 is kept; a purchase at as_of is kept and one a
/// second later is in the future. The other 54 are 10.00 each in December 2025.
fn thresholds() -> String {
    let mut rows = String::from(
        "1,1,2025-12-01 10:00:00,10000.00,Livre\n\
         2,1,2025-12-01 11:00:00,10000.01,Livre\n\
         3,1,2025-12-01 12:00:00,0.00,Livre\n\
         4,1,2025-12-01 13:00:00,0.01,Livre\n\
         5,1,2026-01-01 00:00:00,10.00,Livre\n\
         6,1,2026-01-01 00:00:01,10.00,Livre\n",
    );
    for id in 7..=60 {
        let day = 2 + (id - 7) % 28;
        rows.push_str(&format!("{id},1,2025-12-{day:02} 10:00:00,10.00,Livre\n"));
    }
    rows
}

fn datasets() -> Vec<Dataset> {
    vec![
        Dataset::completes(
            "sans_defaut",
            TWO_CLIENTS,
            "1,1,2025-03-03 10:00:00,100.00,Livre\n\
             2,2,2025-03-20 15:30:00,40.00,Livre\n\
             3,1,2025-04-05 09:00:00,60.00,Livre\n",
        ),
        Dataset::completes(
            "un_achat",
            ONE_CLIENT,
            "1,1,2025-06-15 12:00:00,42.50,Livre\n",
        ),
        Dataset::completes(
            "un_mois",
            THREE_CLIENTS,
            "1,1,2025-03-02 10:00:00,10.00,Livre\n\
             2,2,2025-03-05 11:00:00,20.00,Livre\n\
             3,3,2025-03-10 12:00:00,30.00,Livre\n\
             4,1,2025-03-15 13:00:00,40.00,Livre\n\
             5,2,2025-03-31 23:59:59,50.00,Livre\n",
        ),
        Dataset::completes(
            "un_jour",
            TWO_CLIENTS,
            "1,1,2025-06-15 09:00:00,10.00,Livre\n\
             2,2,2025-06-15 09:30:00,30.00,Livre\n\
             3,1,2025-06-15 18:00:00,20.00,Livre\n",
        ),
        Dataset {
            fails_with: Some("achats.taux_quarantaine: 3 of 3 rows"),
            ..Dataset::completes("tout_en_quarantaine", ONE_CLIENT, ALL_QUARANTINED)
        },
        Dataset {
            options: &["--seuil-quarantaine", "1"],
            ..Dataset::completes("tout_en_quarantaine_accepte", ONE_CLIENT, ALL_QUARANTINED)
        },
        Dataset {
            achats: None,
            fails_with: Some("no achats*.csv file has been ingested"),
            ..Dataset::completes("clients_sans_achats", TWO_CLIENTS, "")
        },
        Dataset::completes("achats_entete_seule", TWO_CLIENTS, ""),
        Dataset::completes(
            "achats_avant_inscription",
            "1,Alice Martin,alice@exemple.fr,2025-06-01,France\n\
             2,Bruno Petit,bruno@exemple.fr,2025-06-01,France\n",
            "1,1,2025-03-03 10:00:00,10.00,Livre\n\
             2,2,2025-04-03 10:00:00,20.00,Livre\n\
             3,1,2025-05-31 23:00:00,30.00,Livre\n",
        ),
        Dataset::completes("seuils", ONE_CLIENT, &thresholds()),
        Dataset {
            options: &["--seuil-quarantaine", "0.049"],
            fails_with: Some("achats.taux_quarantaine: 3 of 60 rows"),
            ..Dataset::completes("seuils_depasses", ONE_CLIENT, &thresholds())
        },
        Dataset::completes(
            "bissextile_nouvel_an",
            "1,Alice Martin,alice@exemple.fr,29/02/2024,France\n\
             2,Bruno Petit,bruno@exemple.fr,2024-12-31,Belgique\n",
            "1,1,29/02/2024 10:00,100.00,Livre\n\
             2,1,2024-12-31 23:30:00,50.00,Livre\n\
             3,2,2025-01-01 00:15:00,25.00,Livre\n\
             4,1,2025-01-02 08:00:00,25.00,Livre\n",
        ),
    ]
}

/// The engines of the matrix: the name of each lake and the global options that select it.
fn engines(cluster: &Cluster) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("standalone", vec!["--engine".into(), "standalone".into()]),
        (
            "cluster",
            vec!["--scheduler".into(), cluster.scheduler.clone()],
        ),
        ("datafusion", vec!["--engine".into(), "datafusion".into()]),
    ]
}

/// Runs a dataset on the three engines; returns the lake folder of each, by engine.
fn run_on_every_engine(root: &Path, cluster: &Cluster, dataset: &Dataset) -> Vec<PathBuf> {
    let sources = dataset.sources(root);
    let mut lakes = Vec::new();
    for (engine, selection) in engines(cluster) {
        let lake_dir = root.join(dataset.name).join(format!("lake-{engine}"));
        let mut args: Vec<String> = vec![
            "--lake".into(),
            lake_dir.to_string_lossy().into_owned(),
            "--job-timeout-seconds".into(),
            JOB_TIMEOUT.into(),
        ];
        args.extend(selection);
        args.extend(
            [
                "run",
                "--sources",
                &sources.to_string_lossy(),
                "--as-of",
                AS_OF,
            ]
            .map(String::from),
        );
        args.extend(dataset.options.iter().map(|o| o.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = lake(root, &args);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        match dataset.fails_with {
            None => assert!(
                out.status.success(),
                "{} on {engine} failed:\n{stdout}\n{stderr}",
                dataset.name
            ),
            Some(message) => {
                assert!(
                    !out.status.success(),
                    "{} on {engine} should have failed:\n{stdout}",
                    dataset.name
                );
                assert!(
                    stderr.contains(message),
                    "{} on {engine}: expected {message:?} in:\n{stderr}",
                    dataset.name
                );
                for layer in ["silver", "gold", "gold/ml"] {
                    assert!(
                        !lake_dir.join(layer).join("_current.json").exists(),
                        "{} on {engine} published {layer}",
                        dataset.name
                    );
                }
            }
        }
        lakes.push(lake_dir);
    }
    lakes
}

/// Every table of the layers of `lake` with its columns and types, read with DataFusion.
fn schemas(lake: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let runtime = tokio::runtime::Runtime::new().expect("tokio");
    runtime.block_on(async {
        let mut options = LakeOptions::local(lake.to_string_lossy().into_owned());
        options.engine = EngineKind::DataFusion;
        let session = LakeSession::open(&options).await.expect("session");
        let mut tables = BTreeMap::new();
        for layer in [Layer::Silver, Layer::Gold, Layer::Ml] {
            let manifest = lake_core::publish::current(&session.lake, layer)
                .await
                .expect("manifest")
                .unwrap_or_else(|| panic!("{}: {} not published", lake.display(), layer.name()));
            for table in manifest.tables.keys() {
                let name = format!("{}.{table}", layer.schema());
                let frame = session
                    .ctx
                    .table(name.as_str())
                    .await
                    .unwrap_or_else(|e| panic!("{}: {name}: {e}", lake.display()));
                let columns = frame
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| (f.name().clone(), f.data_type().to_string()))
                    .collect();
                tables.insert(format!("{}/{table}", layer.name()), columns);
            }
        }
        tables
    })
}

/// The tables and columns of a lake built from the golden fixtures (ordinary data with every
/// defect), built once per test process.
fn reference_schemas() -> &'static BTreeMap<String, Vec<(String, String)>> {
    static SCHEMAS: OnceLock<BTreeMap<String, Vec<(String, String)>>> = OnceLock::new();
    SCHEMAS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tmp");
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/golden");
        let sources = dir.path().join("sources");
        std::fs::create_dir_all(&sources).expect("sources");
        for name in ["clients.csv", "achats.csv", "achats_2025-07.csv"] {
            std::fs::copy(fixtures.join(name), sources.join(name)).expect("copy fixture");
        }
        ok(
            dir.path(),
            &[
                "--engine",
                "datafusion",
                "run",
                "--sources",
                "sources",
                "--as-of",
                "2025-07-01",
                "--seuil-quarantaine",
                "0.5",
            ],
        );
        schemas(&dir.path().join("lake"))
    })
}

/// A query's result as CSV, read with DataFusion from a lake.
fn csv(lake_dir: &Path, query: &str) -> String {
    let lake_arg = lake_dir.to_string_lossy();
    ok(
        lake_dir.parent().expect("parent"),
        &[
            "--lake",
            &lake_arg,
            "--engine",
            "datafusion",
            "sql",
            query,
            "--format",
            "csv",
        ],
    )
}

/// The rows of a query as lines of CSV, without the header.
fn rows(lake_dir: &Path, query: &str) -> Vec<String> {
    csv(lake_dir, query)
        .lines()
        .skip(1)
        .map(str::to_string)
        .collect()
}

fn one(lake_dir: &Path, query: &str) -> String {
    let found = rows(lake_dir, query);
    assert_eq!(found.len(), 1, "{query}: {found:?}");
    found[0].clone()
}

fn count(lake_dir: &Path, table: &str) -> u64 {
    one(lake_dir, &format!("SELECT COUNT(*) FROM {table}"))
        .parse()
        .expect("a count")
}

/// Runs the dataset on every engine and checks what every completed run must give; returns
/// the standalone lake, on which the caller checks the dataset's own figures.
fn check_dataset(name: &str) -> (tempfile::TempDir, Option<PathBuf>) {
    let dataset = datasets()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no dataset {name}"));
    let dir = tempfile::tempdir().expect("tmp");
    let cluster = {
        // `lake cluster up` picks free ports then binds them: start one cluster at a time.
        static STARTING: Mutex<()> = Mutex::new(());
        let _one_at_a_time = STARTING.lock().unwrap_or_else(|e| e.into_inner());
        Cluster::up(dir.path(), &[])
    };
    let lakes = run_on_every_engine(dir.path(), &cluster, &dataset);
    if dataset.fails_with.is_some() {
        return (dir, None);
    }
    let reference = reference_schemas();
    for lake_dir in &lakes {
        assert_eq!(
            &schemas(lake_dir),
            reference,
            "{name}: tables or columns differ from those of ordinary data in {}",
            lake_dir.display()
        );
    }
    let standalone = lakes[0].clone();
    for other in &lakes[1..] {
        let out = compare_every_layer(
            dir.path(),
            &standalone.to_string_lossy(),
            &other.to_string_lossy(),
            &[],
        );
        assert!(out.contains("same"), "{name}: {out}");
    }
    drop(cluster);
    (dir, Some(standalone))
}

/// The tables the SQL project publishes in `layers` (the ML stage's declared in `sql/ml/outputs/`).
fn published_tables(layers: &[Layer]) -> Vec<String> {
    let project = SqlProject::embedded().expect("the embedded SQL project");
    project
        .models()
        .iter()
        .filter(|m| layers.contains(&m.layer))
        .filter(|m| matches!(m.materialized, Materialized::Table | Materialized::External))
        .map(|m| m.table.clone())
        .collect()
}

fn lake_of(checked: &(tempfile::TempDir, Option<PathBuf>)) -> &Path {
    checked.1.as_deref().expect("a completed run")
}

/// The figures of Gold when there is no purchase at all: one headline row of zeros and NULLs,
/// every fact, KPI and analytics table empty but the one-row concentration, and no ML segment.
fn assert_no_purchase(lake_dir: &Path, clients: u64) {
    assert_eq!(count(lake_dir, "silver.achats"), 0);
    assert_eq!(
        one(
            lake_dir,
            "SELECT ca_total, nb_achats, nb_clients_acheteurs, nb_clients_inscrits, \
             panier_moyen IS NULL, clv_moyenne IS NULL, taux_retention_moyen IS NULL, \
             gini IS NULL, part_ca_top20 IS NULL, date_min IS NULL, ref_date IS NULL \
             FROM gold.kpi_globaux"
        ),
        format!("0.00,0,0,{clients},true,true,true,true,true,true,true")
    );
    assert_eq!(
        one(
            lake_dir,
            "SELECT nb_clients, gini IS NULL, part_ca_top20 IS NULL, part_clients_80pct IS NULL \
             FROM gold.concentration"
        ),
        "0,true,true,true"
    );
    // Every published Gold and ML table is empty but the one-row headline and concentration
    // tables, the clients' dimension and the model report (which says why no model was built):
    // a new table is checked here without being listed.
    let not_empty = [
        "kpi_globaux",
        "concentration",
        "dim_clients",
        "model_report",
    ];
    for table in published_tables(&[Layer::Gold, Layer::Ml])
        .into_iter()
        .filter(|t| !not_empty.contains(&t.as_str()))
    {
        assert_eq!(count(lake_dir, &format!("gold.{table}")), 0, "gold.{table}");
    }
    assert_eq!(
        one(
            lake_dir,
            "SELECT COUNT(*), SUM(nb_achats), SUM(ca_total) FROM gold.dim_clients"
        ),
        format!("{clients},0,0.00")
    );
}

#[test]
fn a_clean_dataset_builds_every_table() {
    let checked = check_dataset("sans_defaut");
    let lake_dir = lake_of(&checked);
    assert_eq!(count(lake_dir, "silver.quarantine"), 0);
    assert_eq!(count(lake_dir, "silver.clients"), 2);
    assert_eq!(count(lake_dir, "silver.achats"), 3);
    assert_eq!(
        one(
            lake_dir,
            "SELECT COUNT(*) FROM silver.quality WHERE NOT ok OR nb_echecs IS NULL"
        ),
        "0"
    );
    // CA 200; buyers' CA ascending 40, 160: Gini = (-1·40 + 1·160) / (2 · 200) = 0.3, and the
    // top ⌈0.2 · 2⌉ = 1 buyer holds 160 / 200.
    assert_eq!(
        one(
            lake_dir,
            "SELECT ca_total, nb_achats, nb_clients_acheteurs, ROUND(gini, 9), \
             ROUND(part_ca_top20, 9) FROM gold.kpi_globaux"
        ),
        "200.00,3,2,0.3,0.8"
    );
    // April: client 1 is active again, client 2 is not: 1 retained of 2.
    assert_eq!(
        rows(
            lake_dir,
            "SELECT mois, clients_actifs, clients_actifs_mois_precedent, clients_retenus, \
             nouveaux_clients, taux_retention FROM gold.kpi_retention"
        ),
        ["2025-04-01,1,2,1,0,0.5"]
    );
}

#[test]
fn one_client_with_one_purchase() {
    let checked = check_dataset("un_achat");
    let lake_dir = lake_of(&checked);
    // One buyer: Gini 0, the top buyer holds everything, no month to retain from.
    assert_eq!(
        one(
            lake_dir,
            "SELECT ca_total, nb_achats, nb_clients_acheteurs, panier_moyen, gini, \
             part_ca_top20, taux_retention_moyen IS NULL, date_min, date_max, ref_date \
             FROM gold.kpi_globaux"
        ),
        "42.50,1,1,42.5,0.0,1.0,true,2025-06-15,2025-06-15,2025-06-16"
    );
    assert_eq!(
        one(
            lake_dir,
            "SELECT part_clients_80pct FROM gold.concentration"
        ),
        "1.0"
    );
    assert_eq!(count(lake_dir, "gold.kpi_retention"), 0);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT mois, ca, ca_mois_precedent IS NULL, croissance_mom IS NULL, \
             croissance_yoy IS NULL FROM gold.kpi_croissance"
        ),
        ["2025-06-01,42.50,true,true,true"]
    );
    // 101 points: the floor(j / 100) smallest buyers hold nothing below j = 100, everything at it.
    assert_eq!(
        one(
            lake_dir,
            "SELECT COUNT(*), SUM(CASE WHEN part_clients < 1 THEN part_ca_cumulee END), \
             MAX(CASE WHEN part_clients = 1 THEN part_ca_cumulee END) FROM gold.lorenz"
        ),
        "101,0.0,1.0"
    );
    // A Sunday (7) in June at noon: each index is the only one of its dimension; the hour's is
    // its CA over the mean hourly CA, 42.5 / (42.5 / 24) = 24.
    assert_eq!(
        rows(
            lake_dir,
            "SELECT dimension, valeur, ca_moyen, indice FROM gold.saisonnalite \
             ORDER BY dimension, valeur"
        ),
        [
            "heure,12,42.5,24.0",
            "jour_semaine,7,42.5,1.0",
            "mois,6,42.5,1.0"
        ]
    );
    // NTILE(5) of a single row is 1 everywhere: (R, F) = (1, 1) is "En hibernation".
    assert_eq!(
        one(lake_dir, "SELECT rfm_code, segment FROM gold.dim_rfm"),
        "111,En hibernation"
    );
    // Too few buyers to segment or to train a churn model: empty tables, the reasons reported.
    assert_eq!(count(lake_dir, "gold.segments_ml"), 0);
    assert_eq!(count(lake_dir, "gold.scores_churn"), 0);
    let statuses = rows(
        lake_dir,
        "SELECT modele, texte FROM gold.model_report WHERE indicateur = 'statut' ORDER BY modele",
    );
    assert_eq!(statuses.len(), 2, "{statuses:?}");
    assert!(
        statuses[0].starts_with("churn,\"non entraîné"),
        "{statuses:?}"
    );
    assert!(
        statuses[1].starts_with("segmentation,non segmenté : trop peu d'acheteurs (1)"),
        "{statuses:?}"
    );
}

#[test]
fn every_purchase_in_one_month() {
    let checked = check_dataset("un_mois");
    let lake_dir = lake_of(&checked);
    // No second month: no retention row, no growth base.
    assert_eq!(count(lake_dir, "gold.kpi_retention"), 0);
    assert_eq!(count(lake_dir, "gold.kpi_croissance"), 1);
    assert_eq!(count(lake_dir, "gold.dim_temps"), 30);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT cohorte, mois_relatif, taille_cohorte, clients_actifs, taux_retention \
             FROM gold.cohortes"
        ),
        ["2025-03-01,0,3,3,1.0"]
    );
    // Buyers' CA ascending 30, 50, 70 (total 150): Gini = (-2·30 + 0·50 + 2·70) / (3 · 150)
    // = 80 / 450; the top ⌈0.6⌉ = 1 buyer holds 70 / 150.
    assert_eq!(
        one(
            lake_dir,
            "SELECT ca_total, ROUND(gini * 450, 9), ROUND(part_ca_top20 * 15, 9) \
             FROM gold.kpi_globaux"
        ),
        "150.00,80.0,7.0"
    );
}

#[test]
fn every_purchase_on_one_day() {
    let checked = check_dataset("un_jour");
    let lake_dir = lake_of(&checked);
    assert_eq!(count(lake_dir, "gold.dim_temps"), 1);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT \"date\", ca, nb_achats, nb_clients FROM gold.fact_ca_jour"
        ),
        ["2025-06-15,60.00,3,2"]
    );
    // One day of CA 60: 9 h holds 40 (index 40 / (60 / 24) = 16), 18 h holds 20 (8).
    assert_eq!(
        rows(
            lake_dir,
            "SELECT dimension, valeur, ca_moyen, indice FROM gold.saisonnalite \
             ORDER BY dimension, valeur"
        ),
        [
            "heure,9,40.0,16.0",
            "heure,18,20.0,8.0",
            "jour_semaine,7,60.0,1.0",
            "mois,6,60.0,1.0"
        ]
    );
    assert_eq!(count(lake_dir, "gold.kpi_retention"), 0);
}

#[test]
fn every_purchase_quarantined_stops_at_the_gate() {
    check_dataset("tout_en_quarantaine");
}

#[test]
fn every_purchase_quarantined_and_accepted_gives_an_empty_gold() {
    let checked = check_dataset("tout_en_quarantaine_accepte");
    let lake_dir = lake_of(&checked);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT ligne_source, raison FROM silver.quarantine ORDER BY ligne_source"
        ),
        [
            "2,montant_invalide",
            "3,montant_non_positif",
            "4,date_invalide"
        ]
    );
    assert_no_purchase(lake_dir, 1);
}

#[test]
fn a_clients_file_without_purchase_file_is_refused() {
    check_dataset("clients_sans_achats");
}

#[test]
fn a_header_only_purchase_file_gives_an_empty_gold() {
    let checked = check_dataset("achats_entete_seule");
    let lake_dir = lake_of(&checked);
    assert_no_purchase(lake_dir, 2);
    assert_eq!(
        one(
            lake_dir,
            "SELECT observe, nb_echecs, pct_echecs, ok FROM silver.quality \
             WHERE \"table\" = 'achats' AND controle = 'taux_quarantaine'"
        ),
        "0,0,0.0,true"
    );
}

#[test]
fn purchases_before_every_registration_are_reported_not_blocked() {
    let checked = check_dataset("achats_avant_inscription");
    let lake_dir = lake_of(&checked);
    assert_eq!(count(lake_dir, "silver.achats"), 3);
    assert_eq!(
        one(
            lake_dir,
            "SELECT observe, nb_echecs, pct_echecs, ok, bloquant FROM silver.quality \
             WHERE controle = 'achat_avant_inscription'"
        ),
        "3,3,1.0,false,false"
    );
}

#[test]
fn amounts_and_dates_exactly_at_the_thresholds() {
    let checked = check_dataset("seuils");
    let lake_dir = lake_of(&checked);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT id_achat, raison FROM silver.quarantine ORDER BY id_achat"
        ),
        [
            "2,montant_aberrant",
            "3,montant_non_positif",
            "6,date_future"
        ]
    );
    // 3 of 60 is exactly the 5 % allowed.
    assert_eq!(
        one(
            lake_dir,
            "SELECT nb_echecs, observe, pct_echecs, ok FROM silver.quality \
             WHERE \"table\" = 'achats' AND controle = 'taux_quarantaine'"
        ),
        "3,60,0.05,true"
    );
    // 10 000.00 + 0.01 + 10.00 (at as_of) + 54 × 10.00.
    assert_eq!(
        one(
            lake_dir,
            "SELECT ca_total, nb_achats, date_max, ref_date FROM gold.kpi_globaux"
        ),
        "10550.01,57,2026-01-01,2026-01-02"
    );
    assert_eq!(
        one(
            lake_dir,
            "SELECT MIN(montant), MAX(montant) FROM silver.achats"
        ),
        "0.01,10000.00"
    );
}

#[test]
fn the_quarantine_threshold_just_below_the_share_stops_the_run() {
    check_dataset("seuils_depasses");
}

#[test]
fn leap_day_and_new_year() {
    let checked = check_dataset("bissextile_nouvel_an");
    let lake_dir = lake_of(&checked);
    assert_eq!(
        one(
            lake_dir,
            "SELECT date_inscription FROM silver.clients WHERE id_client = 1"
        ),
        "2024-02-29"
    );
    // 2024-02-29 (a Thursday) to 2025-01-02: 307 days of 2024 and 2 of 2025.
    assert_eq!(count(lake_dir, "gold.dim_temps"), 309);
    assert_eq!(
        one(
            lake_dir,
            "SELECT jour_semaine, semaine_iso FROM gold.dim_temps WHERE \"date\" = '2024-02-29'"
        ),
        "4,9"
    );
    // 2024-12-30, a Monday, starts ISO week 1 of 2025: the three purchases around the new
    // year share it.
    assert_eq!(
        rows(
            lake_dir,
            "SELECT semaine, ca, nb_achats FROM gold.fact_ca_semaine ORDER BY semaine"
        ),
        ["2024-02-26,100.00,1", "2024-12-30,100.00,3"]
    );
    assert_eq!(
        rows(
            lake_dir,
            "SELECT mois, ca FROM gold.fact_ca_mois ORDER BY mois"
        ),
        ["2024-02-01,100.00", "2024-12-01,50.00", "2025-01-01,50.00"]
    );
    // March 2024 to January 2025; in January client 1 is retained from December and client 2
    // is new.
    assert_eq!(count(lake_dir, "gold.kpi_retention"), 11);
    assert_eq!(
        rows(
            lake_dir,
            "SELECT mois, clients_actifs, clients_actifs_mois_precedent, clients_retenus, \
             nouveaux_clients, taux_retention FROM gold.kpi_retention \
             WHERE mois >= DATE '2024-12-01' ORDER BY mois"
        ),
        ["2024-12-01,1,0,0,0,", "2025-01-01,2,1,1,1,1.0"]
    );
    assert_eq!(
        rows(
            lake_dir,
            "SELECT mois, ca, ca_mois_precedent, croissance_mom, croissance_yoy IS NULL \
             FROM gold.kpi_croissance WHERE mois IN (DATE '2024-03-01', DATE '2025-01-01') \
             ORDER BY mois"
        ),
        [
            "2024-03-01,0.00,100.00,-1.0,true",
            "2025-01-01,50.00,50.00,0.0,true"
        ]
    );
    let manifest = read_json(&lake_dir.join("gold/_current.json"));
    assert_eq!(manifest["tables"]["fact_achats"]["rows"], 4);
}

/// The Python engines of the benchmark (DuckDB, pandas, and Spark on the datasets that stress
/// types and calendars most) build the same tables as Ballista standalone on every dataset
/// that completes: the harness runs them and compares with `lake compare`.
#[test]
fn the_benchmark_engines_agree_on_edge_data() {
    const WITH_SPARK: [&str; 3] = ["un_achat", "achats_entete_seule", "bissextile_nouvel_an"];
    let dir = tempfile::tempdir().expect("tmp");
    for dataset in datasets().iter().filter(|d| d.fails_with.is_none()) {
        let sources = dataset.sources(dir.path());
        let mut command = engines_harness();
        command
            .args(["--runs", "1", "--no-warm-up", "--engine", "duckdb"])
            .args(["--engine", "pandas"])
            .arg("--sources")
            .arg(&sources)
            .arg(format!("--run-arg=--as-of={AS_OF}"))
            .arg("--work")
            .arg(dir.path().join(dataset.name).join("work"));
        if WITH_SPARK.contains(&dataset.name) {
            command.args(["--engine", "spark-local"]);
        }
        for option in dataset.options {
            command.arg(format!("--run-arg={option}"));
        }
        let run = command.output().expect("the harness runs");
        assert!(
            run.status.success(),
            "{}: {}\n{}",
            dataset.name,
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

/// A job that cannot finish in time fails the command on standalone too, cancelled on the
/// in-process scheduler, with the error naming the job, the stage it stopped in and the setting.
#[test]
fn a_job_past_its_timeout_names_its_stage_and_the_setting() {
    let dir = tempfile::tempdir().expect("tmp");
    let endless = "SELECT COUNT(*) FROM \
                   (SELECT unnest(generate_series(1, 1000000)) AS a) AS x, \
                   (SELECT unnest(generate_series(1, 1000000)) AS b) AS y WHERE x.a + y.b < 0";
    // 5 s, not less: the job must have reached the in-process scheduler (planned, submitted)
    // for its stage to be named, and this suite runs its datasets in parallel on 2 cores.
    let out = lake(dir.path(), &["--job-timeout-seconds", "5", "sql", endless]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    for expected in [
        "job \"lake sql\" did not finish within 5 s",
        "stopped in stage",
        "--job-timeout-seconds (LAKE_JOB_TIMEOUT, 0 for none)",
    ] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}
