//! Stable names for BI tools. A load writes collections named after its version
//! (`fact_ca_mois__<version>_<load time>`), which a tool like Metabase would see as a new table
//! at every load, breaking its saved questions. So each served table also gets a MongoDB view
//! under its own name (`fact_ca_mois`), defined on the collection being served and redefined
//! (`collMod`) by each load right after the pointer switch.
//!
//! Views are a MongoDB feature that FerretDB 1.24 does not implement: there the load goes on
//! without them and says so ([`ViewsOutcome::Unsupported`]); the API does not need them.

use std::collections::BTreeMap;

use mongodb::Database;
use mongodb::bson::{Document, doc};
use mongodb::error::ErrorKind;
use mongodb::results::CollectionType;

/// Server error codes meaning "this server has no views": `NotImplemented` (FerretDB) and
/// `CommandNotSupported`.
const NOT_IMPLEMENTED: i32 = 238;
const COMMAND_NOT_SUPPORTED: i32 = 115;

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error(
        "{name} is a collection, not a view of the lake's: the load redefines a view named \
         after each served table and will not replace a collection someone else made \
         (drop or rename it, or load with --no-views)"
    )]
    NameTaken { name: String },
    #[error("MongoDB {what}: {source}")]
    Mongo {
        what: String,
        #[source]
        source: mongodb::error::Error,
    },
}

/// What became of the views in a load.
#[derive(Debug, Clone, PartialEq)]
pub enum ViewsOutcome {
    /// These views now show the version just switched to.
    Switched(Vec<String>),
    /// The server has no views (FerretDB): the reason it gave.
    Unsupported(String),
    /// Not asked for (`--no-views`).
    Skipped,
}

/// The command that makes view `name` show collection `on`, given what `name` is now.
fn view_command(
    name: &str,
    on: &str,
    existing: Option<&CollectionType>,
) -> Result<Document, ViewError> {
    match existing {
        None => Ok(doc! { "create": name, "viewOn": on, "pipeline": [] }),
        Some(CollectionType::View) => Ok(doc! { "collMod": name, "viewOn": on, "pipeline": [] }),
        Some(_) => Err(ViewError::NameTaken {
            name: name.to_string(),
        }),
    }
}

/// The server's reason when `e` says it has no views.
fn unsupported(e: &mongodb::error::Error) -> Option<String> {
    match &*e.kind {
        ErrorKind::Command(c) if c.code == NOT_IMPLEMENTED || c.code == COMMAND_NOT_SUPPORTED => {
            Some(c.message.clone())
        }
        _ => None,
    }
}

/// Points the view named after each table of `collections` (the pointer's table → collection
/// map) at its collection, creating the views missing.
pub async fn switch_views(
    db: &Database,
    collections: &BTreeMap<String, String>,
) -> Result<ViewsOutcome, ViewError> {
    let mongo = |what: String| move |source| ViewError::Mongo { what, source };
    let mut kinds: BTreeMap<String, CollectionType> = BTreeMap::new();
    let mut listed = db
        .list_collections()
        .await
        .map_err(mongo("listing collections".into()))?;
    while listed
        .advance()
        .await
        .map_err(mongo("listing collections".into()))?
    {
        let spec = listed
            .deserialize_current()
            .map_err(mongo("listing collections".into()))?;
        kinds.insert(spec.name, spec.collection_type);
    }
    let mut switched = Vec::new();
    for (name, on) in collections {
        let command = view_command(name, on, kinds.get(name))?;
        match db.run_command(command).await {
            Ok(_) => switched.push(name.clone()),
            Err(e) => {
                if let Some(reason) = unsupported(&e) {
                    return Ok(ViewsOutcome::Unsupported(reason));
                }
                return Err(mongo(format!("pointing view {name} at {on}"))(e));
            }
        }
    }
    Ok(ViewsOutcome::Switched(switched))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_view_is_created_an_existing_one_redefined_a_collection_left_alone() {
        assert_eq!(
            view_command("fact_ca_mois", "fact_ca_mois__v_t", None).expect("create"),
            doc! { "create": "fact_ca_mois", "viewOn": "fact_ca_mois__v_t", "pipeline": [] }
        );
        assert_eq!(
            view_command(
                "fact_ca_mois",
                "fact_ca_mois__v_t",
                Some(&CollectionType::View)
            )
            .expect("collMod"),
            doc! { "collMod": "fact_ca_mois", "viewOn": "fact_ca_mois__v_t", "pipeline": [] }
        );
        let refused = view_command(
            "fact_ca_mois",
            "fact_ca_mois__v_t",
            Some(&CollectionType::Collection),
        )
        .expect_err("a collection of that name is not replaced");
        assert!(refused.to_string().contains("--no-views"), "{refused}");
    }
}
