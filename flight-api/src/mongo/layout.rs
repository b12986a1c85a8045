//! What the loader writes and the reader reads: the pointer document, the collection names, and
//! the indexes the serving catalogue declares for the API's filters and sorts.

use lake_core::serving::ServedTable;
use mongodb::bson::{Bson, Document};
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

/// `<table>__<load tag>`, with the table as its [`pointer_key`] (`silver_quality__<tag>`).
pub fn collection_name(table: &str, load_tag: &str) -> String {
    format!("{}__{load_tag}", pointer_key(table))
}

/// The tag of one load of `version` started at `loaded_at`: the version's tag, then the load's
/// timestamp (`20261129T001500123Z`). Every load writes collections of its own, so the leftovers
/// of a killed load (and the writes its server may still be finishing) never meet the next one.
pub fn load_tag(version: &str, loaded_at: &str) -> String {
    let stamp: String = loaded_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("{}_{stamp}", version_tag(version))
}

/// The load tag of a collection (which starts with its version's tag), if it is one of ours.
pub fn version_of_collection(name: &str) -> Option<&str> {
    name.split_once("__").map(|(_, v)| v)
}

/// Indexes of a served table, as its model's `-- index:` lines declare them (keys in order).
pub fn indexes(table: &ServedTable) -> Vec<Document> {
    table
        .serving
        .indexes
        .iter()
        .map(|keys| {
            keys.iter()
                .map(|k| {
                    (
                        k.column.clone(),
                        Bson::Int32(if k.descending { -1 } else { 1 }),
                    )
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lake_core::serving::ServingCatalogue;
    use mongodb::bson::doc;

    #[test]
    fn indexes_follow_the_declared_keys_and_directions() {
        let catalogue = ServingCatalogue::embedded().expect("catalogue");
        let clv = catalogue.get("kpi_clv").expect("kpi_clv served");
        assert_eq!(
            indexes(clv),
            vec![
                doc! { "id_client": 1 },
                doc! { "clv_12m": -1, "id_client": 1 }
            ]
        );
    }

    #[test]
    fn collection_names_carry_a_safe_version_tag_and_the_load_time() {
        let tag = load_tag(
            "20261128T160102123Z-1a2b3c4d+2026X",
            "2026-11-29T00:15:00.123Z",
        );
        assert_eq!(
            tag,
            "20261128T160102123Z_1a2b3c4d_2026X_20261129T001500123Z"
        );
        let name = collection_name("fact_achats", &tag);
        assert_eq!(
            name,
            "fact_achats__20261128T160102123Z_1a2b3c4d_2026X_20261129T001500123Z"
        );
        assert_eq!(version_of_collection(&name), Some(tag.as_str()));
        assert_eq!(version_of_collection("_serving"), None);
        assert_eq!(collection_name("silver.quality", "t"), "silver_quality__t");
    }
}
