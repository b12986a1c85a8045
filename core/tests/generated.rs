//! On generated data, Silver's quality report finds exactly the defects the generator's manifest
//! says it injected, and Silver's row counts are the ones the manifest predicts.

mod common;

use std::collections::BTreeMap;

use common::TestLake;
use lake_core::RunSettings;
use lake_generator::{Defect, DefectRates, GenerateConfig, Manifest};

/// Which quality check counts each defect: (table, controle) → the manifest's defect ids.
fn check_for(defect: Defect) -> (&'static str, &'static str) {
    match defect {
        Defect::C1 => ("clients", "doublons_exacts"),
        Defect::C2 => ("clients", "versions_anterieures"),
        Defect::C3 => ("clients", "email_corrige"),
        Defect::C4 => ("clients", "email_invalide"),
        Defect::C5 => ("clients", "date_corrigee"),
        Defect::C5Invalide => ("clients", "date_invalide"),
        Defect::C6 => ("clients", "pays_corrige"),
        Defect::C6Inconnu => ("clients", "pays_inconnu"),
        Defect::C7 => ("clients", "nom_corrige"),
        Defect::C8 => ("clients", "quarantaine_id_client_invalide"),
        Defect::A1 => ("achats", "doublons_exacts"),
        Defect::A2 => ("achats", "versions_anterieures"),
        Defect::A3 => ("achats", "montant_corrige"),
        Defect::A4 => ("achats", "quarantaine_montant_invalide"),
        Defect::A5 => ("achats", "quarantaine_montant_non_positif"),
        Defect::A6 => ("achats", "quarantaine_montant_aberrant"),
        Defect::A7 => ("achats", "date_corrigee"),
        Defect::A8 => ("achats", "quarantaine_date_invalide"),
        Defect::A9 => ("achats", "quarantaine_date_future"),
        Defect::A10 => ("achats", "quarantaine_client_inconnu"),
        Defect::A11 => ("achats", "quarantaine_produit_manquant"),
        Defect::A12 => ("achats", "produit_corrige"),
        Defect::A12HorsCatalogue => ("achats", "produit_hors_catalogue"),
        Defect::A13 => ("achats", "quarantaine_id_achat_invalide"),
        Defect::A14 => ("achats", "achat_avant_inscription"),
    }
}

async fn quality_counts_match_manifest(scale: f64, seed: u64) {
    let lake = TestLake::open().await;
    let config = GenerateConfig {
        scale,
        seed,
        as_of: GenerateConfig::default_as_of(),
        rates: DefectRates::default(),
        churn: lake_generator::ChurnSignal::default(),
        out_dir: lake.sources(),
    };
    lake_generator::generate(&config).expect("generate");
    let manifest =
        Manifest::read(&lake.sources().join(lake_generator::MANIFEST_FILE)).expect("manifest");
    lake.run_all(&RunSettings::new(config.as_of)).await;

    let quality: BTreeMap<(String, String), u64> = lake
        .rows("SELECT \"table\", controle, CAST(nb_echecs AS VARCHAR) FROM silver.quality")
        .await
        .into_iter()
        .map(|r| ((r[0].clone(), r[1].clone()), r[2].parse().expect("count")))
        .collect();
    let mut mismatches = Vec::new();
    for defect in Defect::CLIENTS.into_iter().chain(Defect::ACHATS) {
        let (table, check) = check_for(defect);
        let found = quality
            .get(&(table.to_string(), check.to_string()))
            .copied();
        let injected = manifest.defect(defect);
        assert!(injected > 0, "{defect} was not injected at SF {scale}");
        if found != Some(injected) {
            mismatches.push(format!(
                "{defect} ({table}.{check}): report {found:?}, manifest {injected}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "SF {scale}:\n{}",
        mismatches.join("\n")
    );

    let silver_rows = |t: &str| format!("SELECT COUNT(*) FROM silver.{t}");
    assert_eq!(
        lake.number(&silver_rows("clients")).await as u64,
        manifest.expected.clients
    );
    assert_eq!(
        lake.number(&silver_rows("achats")).await as u64,
        manifest.expected.achats
    );
    let quarantined: u64 = manifest.expected.quarantine.values().sum();
    assert_eq!(
        lake.number(&silver_rows("quarantine")).await as u64,
        quarantined
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_report_equals_manifest_at_sf_0_01() {
    quality_counts_match_manifest(0.01, 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_report_equals_manifest_at_sf_0_1() {
    quality_counts_match_manifest(0.1, 42).await;
}
