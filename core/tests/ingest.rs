//! Ingestion: idempotent, incremental, schema-checked; bad files give clear errors and never
//! reach Bronze.

mod common;

use common::TestLake;
use lake_core::ingest::BronzeManifest;

const CLIENTS: &str = "id_client,nom,email,date_inscription,pays\n1,Alice Martin,alice@exemple.fr,2025-01-05,France\n";
const ACHATS: &str =
    "id_achat,id_client,date_achat,montant,produit\n1,1,2025-03-03 10:15:00,100.00,Livre\n";

fn write(lake: &TestLake, name: &str, content: &[u8]) {
    std::fs::create_dir_all(lake.sources()).expect("sources");
    std::fs::write(lake.sources().join(name), content).expect("write source");
}

async fn bronze_files(lake: &TestLake) -> Vec<String> {
    BronzeManifest::load(&lake.session.lake)
        .await
        .expect("manifest")
        .files
        .into_iter()
        .map(|f| f.source_name)
        .collect()
}

async fn ingest(lake: &TestLake) -> lake_core::ingest::IngestReport {
    lake.session
        .ingest(&lake.sources(), |_| {})
        .await
        .expect("ingest")
}

/// Every object under bronze/, for checking that refused files left nothing behind.
async fn bronze_objects(lake: &TestLake) -> Vec<String> {
    let mut keys: Vec<String> = lake
        .session
        .lake
        .list("bronze")
        .await
        .expect("list")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn second_ingest_is_a_no_op_and_new_files_come_alone() {
    let lake = TestLake::open().await;
    write(&lake, "clients.csv", CLIENTS.as_bytes());
    write(&lake, "achats.csv", ACHATS.as_bytes());
    write(&lake, "notes.txt", b"not a source");
    let first = ingest(&lake).await;
    assert_eq!(first.ingested.len(), 2);
    assert_eq!(first.ignored, vec!["notes.txt".to_string()]);
    assert!(
        lake.session
            .lake
            .get("sources/clients/clients.csv")
            .await
            .expect("get")
            .is_some()
    );

    let objects = bronze_objects(&lake).await;
    let second = ingest(&lake).await;
    assert!(second.ingested.is_empty());
    assert_eq!(second.unchanged.len(), 2);
    assert_eq!(bronze_objects(&lake).await, objects, "nothing rewritten");

    write(
        &lake,
        "achats_2026-12.csv",
        b"id_achat,id_client,date_achat,montant,produit\n2,1,2025-03-04 10:00:00,20.00,Livre\n",
    );
    let third = ingest(&lake).await;
    let names: Vec<&str> = third
        .ingested
        .iter()
        .map(|f| f.source_name.as_str())
        .collect();
    assert_eq!(names, vec!["achats_2026-12.csv"]);
    assert_eq!(lake.value("SELECT COUNT(*) FROM bronze.achats").await, "2");
    let lines = lake
        .rows("SELECT _fichier, CAST(_ligne AS VARCHAR) FROM bronze.achats ORDER BY _fichier")
        .await;
    assert_eq!(
        lines,
        vec![
            vec!["achats.csv".to_string(), "2".to_string()],
            vec!["achats_2026-12.csv".to_string(), "2".to_string()],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_file_replaces_its_previous_version() {
    let lake = TestLake::open().await;
    write(&lake, "clients.csv", CLIENTS.as_bytes());
    ingest(&lake).await;
    write(
        &lake,
        "clients.csv",
        format!("{CLIENTS}2,Bruno Petit,bruno@exemple.fr,2025-02-15,France\n").as_bytes(),
    );
    let report = ingest(&lake).await;
    assert_eq!(report.ingested.len(), 1);
    assert_eq!(bronze_files(&lake).await, vec!["clients.csv".to_string()]);
    assert_eq!(lake.value("SELECT COUNT(*) FROM bronze.clients").await, "2");
    assert_eq!(
        bronze_objects(&lake).await.len(),
        2,
        "one Parquet file and the manifest"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_are_refused_with_a_clear_reason() {
    let lake = TestLake::open().await;
    write(&lake, "clients.csv", CLIENTS.as_bytes());
    ingest(&lake).await;
    let before = bronze_objects(&lake).await;

    // Missing required column.
    write(
        &lake,
        "achats_a.csv",
        b"id_achat,id_client,date_achat,produit\n1,1,2025-03-03 10:15:00,Livre\n",
    );
    // Empty file.
    write(&lake, "achats_b.csv", b"");
    // Not UTF-8 (Latin-1 "é" on the third line).
    write(&lake, "achats_c.csv", b"id_achat,id_client,date_achat,montant,produit\n1,1,2025-03-03 10:15:00,1.00,Livre\n2,1,2025-03-03 10:15:00,1.00,Cl\xe9 USB\n");
    // Same column twice.
    write(
        &lake,
        "clients_d.csv",
        b"id_client,nom,nom,email,date_inscription,pays\n",
    );

    let report = ingest(&lake).await;
    assert!(report.ingested.is_empty());
    let messages: Vec<String> = report.refused.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 4, "{messages:?}");
    assert!(
        messages[0].contains("achats_a.csv") && messages[0].contains("\"montant\""),
        "{}",
        messages[0]
    );
    assert!(
        messages[1].contains("achats_b.csv") && messages[1].contains("empty"),
        "{}",
        messages[1]
    );
    assert!(
        messages[2].contains("achats_c.csv")
            && messages[2].contains("UTF-8")
            && messages[2].contains("line 3"),
        "{}",
        messages[2]
    );
    assert!(
        messages[3].contains("clients_d.csv") && messages[3].contains("twice"),
        "{}",
        messages[3]
    );
    assert_eq!(
        bronze_objects(&lake).await,
        before,
        "nothing of a refused file enters Bronze"
    );
    assert_eq!(bronze_files(&lake).await, vec!["clients.csv".to_string()]);
    assert!(
        lake.session
            .lake
            .list("sources/achats")
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_but_readable_files_are_kept_and_reported() {
    let lake = TestLake::open().await;
    // Header only.
    write(
        &lake,
        "clients.csv",
        b"id_client,nom,email,date_inscription,pays\n",
    );
    // Extra column, columns in another order and case, truncated last line without newline.
    write(
        &lake,
        "achats.csv",
        b"PRODUIT,id_achat,id_client,date_achat,montant,canal\nLivre,1,1,2025-03-03 10:15:00,100.00,web\nLivre,2,1,2025-03-03",
    );
    let report = ingest(&lake).await;
    assert_eq!(report.ingested.len(), 2);
    let warnings = report.warnings.join("\n");
    assert!(warnings.contains("clients.csv: header only"), "{warnings}");
    assert!(warnings.contains("extra column(s) canal"), "{warnings}");
    assert!(
        warnings.contains("1 row(s) with a wrong number of fields"),
        "{warnings}"
    );
    let rows = lake
        .rows("SELECT id_achat, produit, montant, COALESCE(_erreur, '') FROM bronze.achats ORDER BY _ligne")
        .await;
    assert_eq!(
        rows,
        vec![
            vec![
                "1".to_string(),
                "Livre".to_string(),
                "100.00".to_string(),
                String::new()
            ],
            vec![
                "2".to_string(),
                "Livre".to_string(),
                "NULL".to_string(),
                "4 champ(s) au lieu de 6".to_string()
            ],
        ]
    );
    assert_eq!(lake.value("SELECT COUNT(*) FROM bronze.clients").await, "0");
}

/// `_ligne` is the line a text editor shows for the row, header included, whether the file
/// ends its lines with LF or with CRLF (a Windows export), across a quoted field holding a line
/// break and a blank line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_numbers_are_the_editors_with_lf_and_crlf() {
    let lines = [
        "id_achat,id_client,date_achat,montant,produit",
        "1,1,2025-03-03 10:15:00,100.00,Livre",
        "2,1,2025-03-04 10:15:00,20.00,\"Livre",
        "de poche\"",
        "",
        "3,1,2025-03-05 10:15:00,30.00,Livre",
    ];
    for (name, ending) in [("achats_lf.csv", "\n"), ("achats_crlf.csv", "\r\n")] {
        let lake = TestLake::open().await;
        write(&lake, "clients.csv", CLIENTS.as_bytes());
        write(
            &lake,
            name,
            format!("{}{ending}", lines.join(ending)).as_bytes(),
        );
        let report = ingest(&lake).await;
        assert_eq!(report.ingested.len(), 2, "{name}");
        // Row 2 starts on line 3 and its product spans lines 3 and 4; line 5 is blank.
        assert_eq!(
            lake.rows(
                "SELECT id_achat, CAST(_ligne AS VARCHAR) AS ligne FROM bronze.achats ORDER BY _ligne"
            )
            .await,
            vec![
                vec!["1".to_string(), "2".to_string()],
                vec!["2".to_string(), "3".to_string()],
                vec!["3".to_string(), "6".to_string()],
            ],
            "{name}"
        );
    }
}
