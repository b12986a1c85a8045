//! `lake mongo load`: the published Gold, Silver quality and ML into MongoDB, then the pointer
//! switch.

use anyhow::{Context, Result};

use crate::args::{LakeArgs, MongoLoadArgs};
use crate::exit::Outcome;
use crate::lake_access::open_lake;
use crate::progress::group_digits;
use crate::report::{self, say};
use flight_api::mongo::views::ViewsOutcome;
use serde_json::json;

/// `lake mongo load`: the published Gold and ML into MongoDB, then the pointer switch.
pub(crate) async fn load(lake: &LakeArgs, load_args: &MongoLoadArgs) -> Result<Outcome> {
    let store = open_lake(lake).await?;
    let args = &load_args.mongo;
    let db = flight_api::mongo::connect(&args.mongo_url, &args.mongo_db)
        .await
        .with_context(|| format!("invalid MongoDB URL {}", args.mongo_url))?;
    let options = flight_api::mongo::load::LoadOptions {
        reload: load_args.reload,
        skip_views: load_args.no_views,
    };
    let outcome = flight_api::mongo::load::load(&store, &db, options, |event| match event {
        flight_api::mongo::load::LoadEvent::Table {
            table,
            rows,
            seconds,
        } => say!(
            "  {table:<24} {:>12} documents {seconds:>8.2} s",
            group_digits(rows)
        ),
        // Readers see the new version from this line on (the refresh benchmark times it).
        flight_api::mongo::load::LoadEvent::Switched { version, loaded_at } => {
            say!("  switched the pointer to {version} at {loaded_at}")
        }
    })
    .await
    .with_context(|| {
        format!(
            "loading into {} (database {}) failed; the version served before is unchanged",
            args.mongo_url, args.mongo_db
        )
    })?;
    match outcome {
        flight_api::mongo::load::LoadOutcome::Unchanged { version } => {
            say!("mongo: version {version} is already served; nothing to load");
            report::section(
                "mongo",
                json!({ "status": "already_served", "version": version }),
            );
            return Ok(Outcome::NothingToDo);
        }
        flight_api::mongo::load::LoadOutcome::Loaded {
            version,
            tables,
            dropped,
            views,
            seconds,
        } => {
            let documents: u64 = tables.values().map(|(rows, _)| rows).sum();
            say!(
                "mongo: loaded version {version}: {} tables, {} documents in {seconds:.2} s; \
                 dropped {} old collection(s)",
                tables.len(),
                group_digits(documents),
                dropped.len()
            );
            let views = match views {
                ViewsOutcome::Switched(names) => {
                    say!(
                        "  views named after the tables ({}) now show this version",
                        names.len()
                    );
                    json!({ "status": "switched", "names": names })
                }
                ViewsOutcome::Unsupported(reason) => {
                    say!(
                        "  views: this server has none ({reason}); BI tools see the versioned \
                         collections only"
                    );
                    json!({ "status": "unsupported", "reason": reason })
                }
                ViewsOutcome::Skipped => json!({ "status": "skipped" }),
            };
            report::section(
                "mongo",
                json!({
                    "status": "loaded",
                    "version": version,
                    "database": args.mongo_db,
                    "tables": tables.iter().map(|(name, (rows, seconds))| (name.clone(), json!({
                        "documents": rows,
                        "seconds": report::round_seconds(*seconds),
                    }))).collect::<serde_json::Map<_, _>>(),
                    "dropped_collections": dropped,
                    "views": views,
                    "seconds": report::round_seconds(seconds),
                }),
            );
        }
    }
    Ok(Outcome::Done)
}
