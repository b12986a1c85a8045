//! What the loader writes and the reader reads: the pointer document, the collection names, and
//! the index of every filter and sort the API offers.

use mongodb::bson::{Document, doc};
use serde::{Deserialize, Serialize};

/// Collection holding the pointer document.
pub const POINTER_COLLECTION: &str = "_serving";
/// `_id` of the pointer document.
pub const POINTER_ID: &str = "current";

/// The version being served.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pointer {
    #[serde(rename = "_id")]
    pub id: String,
    /// `<gold run id>` or `<gold run id>+<ml run id>`.
    pub version: String,
    pub gold_version: String,
    pub ml_version: Option<String>,
    pub as_of: String,
    pub gold_published_at: String,
    pub loaded_at: String,
    /// Table name → collection holding it in this version.
    pub collections: std::collections::BTreeMap<String, String>,
    /// Versions kept for readers that resolved the pointer just before this one.
    #[serde(default)]
    pub previous_versions: Vec<String>,
}

/// The Gold tables the API serves (everything else stays in the lake); a load needs them all.
pub const GOLD_TABLES: [&str; 21] = [
    "kpi_globaux",
    "kpi_clv",
    "kpi_retention",
    "kpi_rfm",
    "kpi_rfm_grille",
    "kpi_clv_deciles",
    "kpi_produits",
    "kpi_croissance",
    "fact_achats",
    "fact_ca_jour",
    "fact_ca_semaine",
    "fact_ca_mois",
    "fact_ca_heure",
    "fact_ca_pays",
    "saisonnalite",
    "concentration",
    "lorenz",
    "cohortes",
    "dim_clients",
    "dim_rfm",
    "dim_produits",
];

/// The Silver tables the API serves (the quality report and the quarantined rows), from the
/// Silver run the loaded Gold was built on; their collections are keyed `silver.<table>`.
pub const SILVER_TABLES: [&str; 2] = ["silver.quality", "silver.quarantine"];

/// The ML tables the API serves, loaded when `lake ml` has published them.
pub const ML_TABLES: [&str; 4] = [
    "segments_ml",
    "segments_profils",
    "scores_churn",
    "model_report",
];

/// A short, collection-name-safe tag of a version.
pub fn version_tag(version: &str) -> String {
    version
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// A table's key in [`Pointer::collections`]: MongoDB keys cannot hold a dot, so a layer prefix
/// is joined with `_` (`silver.quality` → `silver_quality`).
pub fn pointer_key(table: &str) -> String {
    table.replace('.', "_")
}

/// `<table>__<version tag>`, with the table as its [`pointer_key`] (`silver_quality__<tag>`).
pub fn collection_name(table: &str, version: &str) -> String {
    format!("{}__{}", pointer_key(table), version_tag(version))
}

/// The version a collection belongs to, if it is one of ours.
pub fn version_of_collection(name: &str) -> Option<&str> {
    name.split_once("__").map(|(_, v)| v)
}

/// Indexes of a table: one per filter and sort of the API (keys in order).
pub fn indexes(table: &str) -> Vec<Document> {
    match table {
        "fact_achats" => vec![
            doc! { "date_achat": 1, "id_achat": 1 },
            doc! { "montant": 1, "id_achat": 1 },
            doc! { "id_client": 1, "date_achat": 1, "id_achat": 1 },
            doc! { "pays": 1, "date_achat": 1, "id_achat": 1 },
            doc! { "produit": 1, "date_achat": 1, "id_achat": 1 },
        ],
        "dim_clients" => vec![
            doc! { "id_client": 1 },
            doc! { "ca_total": -1, "id_client": 1 },
            doc! { "pays": 1, "ca_total": -1 },
        ],
        "kpi_clv" => vec![
            doc! { "id_client": 1 },
            doc! { "clv_12m": -1, "id_client": 1 },
        ],
        "dim_rfm" => vec![
            doc! { "id_client": 1 },
            doc! { "segment": 1, "montant": -1, "id_client": 1 },
        ],
        "segments_ml" => vec![doc! { "id_client": 1 }],
        "silver.quarantine" => vec![
            doc! { "entite": 1, "fichier_source": 1, "ligne_source": 1 },
            doc! { "entite": 1, "raison": 1, "fichier_source": 1, "ligne_source": 1 },
            doc! { "raison": 1, "entite": 1, "fichier_source": 1, "ligne_source": 1 },
        ],
        "scores_churn" => vec![
            doc! { "id_client": 1 },
            doc! { "score_churn": -1, "id_client": 1 },
            doc! { "risque": 1, "score_churn": -1 },
        ],
        "fact_ca_jour" => vec![doc! { "date": 1 }],
        "fact_ca_semaine" => vec![doc! { "semaine": 1 }],
        "fact_ca_mois" => vec![doc! { "mois": 1 }],
        "cohortes" => vec![doc! { "cohorte": 1, "mois_relatif": 1 }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_carry_a_safe_version_tag() {
        let name = collection_name("fact_achats", "20261128T160102123Z-1a2b3c4d+2026X");
        assert_eq!(name, "fact_achats__20261128T160102123Z_1a2b3c4d_2026X");
        assert_eq!(
            version_of_collection(&name),
            Some("20261128T160102123Z_1a2b3c4d_2026X")
        );
        assert_eq!(version_of_collection("_serving"), None);
        assert_eq!(
            collection_name("silver.quality", "20261128T160102123Z-1a2b3c4d"),
            "silver_quality__20261128T160102123Z_1a2b3c4d"
        );
    }
}
