//! Registering the lake's tables by name in a session: `bronze.*` from the Bronze manifest,
//! `silver.*` and `gold.*` from their current runs (the ML stage's tables in `gold.*` too),
//! `reference.*` from `reference/`.
//! Table definitions live in the client session and travel with each plan, so every session
//! (standalone or remote) registers them itself.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionConfig, SessionContext};

use crate::error::{LakeError, Result};
use crate::ingest::{BronzeManifest, Entity, bronze_urls};
use crate::models::Layer;
use crate::publish::{self, LayerManifest};
use crate::storage::Lake;

pub const SCHEMAS: [&str; 4] = ["bronze", "silver", "gold", "reference"];

/// Creates the lake's schemas in the session's default catalog.
pub fn create_schemas(ctx: &SessionContext) -> Result<()> {
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| LakeError::EngineSetup {
            engine: "session".into(),
            reason: "no default catalog".into(),
        })?;
    for schema in SCHEMAS {
        if catalog.schema(schema).is_none() {
            catalog.register_schema(schema, Arc::new(MemorySchemaProvider::new()))?;
        }
    }
    Ok(())
}

/// Registers (or replaces) a Parquet folder as `layer.table`.
pub async fn register_parquet_folder(
    ctx: &SessionContext,
    name: TableReference,
    url: &str,
) -> Result<()> {
    ctx.deregister_table(name.clone())?;
    ctx.register_parquet(name, url, ParquetReadOptions::default())
        .await?;
    Ok(())
}

/// Registers `bronze.clients` and `bronze.achats` over the files listed in the manifest.
pub async fn register_bronze(ctx: &SessionContext, lake: &Lake) -> Result<BronzeManifest> {
    let manifest = BronzeManifest::load(lake).await?;
    let urls = bronze_urls(lake, &manifest);
    for entity in Entity::ALL {
        let name = TableReference::partial("bronze", entity.name());
        ctx.deregister_table(name.clone())?;
        let Some(files) = urls.get(&entity) else {
            continue;
        };
        let table_urls = files
            .iter()
            .map(ListingTableUrl::parse)
            .collect::<datafusion::error::Result<Vec<_>>>()?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(table_urls)
            .with_listing_options(options)
            .with_schema(entity.bronze_schema());
        ctx.register_table(name, Arc::new(ListingTable::try_new(config)?))?;
    }
    Ok(manifest)
}

/// A local DataFusion context (no Ballista) that can read the object store of each lake: the
/// readers of published tables (the API's lake store, the MongoDB loader, `lake compare`).
pub fn local_reader(lakes: &[&Lake], config: SessionConfig) -> SessionContext {
    local_reader_with_runtime(lakes, config, Arc::new(RuntimeEnv::default()))
}

/// [`local_reader`] on a given runtime (e.g. with a bounded memory pool, see [`crate::memory`]).
pub fn local_reader_with_runtime(
    lakes: &[&Lake],
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
) -> SessionContext {
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    for lake in lakes.iter().filter(|l| l.is_s3()) {
        ctx.register_object_store(lake.store_url(), lake.store());
    }
    ctx
}

/// Registers every table of a layer's current run; returns its manifest.
pub async fn register_layer(
    ctx: &SessionContext,
    lake: &Lake,
    layer: Layer,
) -> Result<Option<LayerManifest>> {
    let Some(manifest) = publish::current(lake, layer).await? else {
        return Ok(None);
    };
    register_manifest(ctx, lake, layer, &manifest).await?;
    Ok(Some(manifest))
}

/// Registers (or replaces) every table of one published run of `layer` as `schema.table`.
pub async fn register_manifest(
    ctx: &SessionContext,
    lake: &Lake,
    layer: Layer,
    manifest: &LayerManifest,
) -> Result<()> {
    for (table, published) in &manifest.tables {
        register_parquet_folder(
            ctx,
            TableReference::partial(layer.schema(), table.as_str()),
            &lake.url(&published.path),
        )
        .await?;
    }
    Ok(())
}

/// Key of a reference table's CSV in the lake.
pub fn reference_key(name: &str) -> String {
    format!("reference/{name}.csv")
}

/// Registers `reference.pays` and `reference.produits` from the lake's `reference/` zone.
pub async fn register_reference(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    let tables: [(&str, Vec<Field>); 2] = [
        (
            "pays",
            vec![
                Field::new("code_iso", DataType::Utf8, false),
                Field::new("pays", DataType::Utf8, false),
                Field::new("nom_anglais", DataType::Utf8, false),
            ],
        ),
        (
            "produits",
            vec![
                Field::new("produit", DataType::Utf8, false),
                Field::new("categorie", DataType::Utf8, false),
                Field::new("prix_reference", DataType::Float64, false),
            ],
        ),
    ];
    for (name, fields) in tables {
        let key = reference_key(name);
        let table = TableReference::partial("reference", name);
        ctx.deregister_table(table.clone())?;
        if lake.get(&key).await?.is_none() {
            continue;
        }
        let schema = Schema::new(fields);
        let options = CsvReadOptions::new().has_header(true).schema(&schema);
        ctx.register_csv(table, &lake.url(&key), options).await?;
    }
    Ok(())
}

/// Registers everything published: reference, Bronze, Silver and Gold.
pub async fn register_all(ctx: &SessionContext, lake: &Lake) -> Result<()> {
    create_schemas(ctx)?;
    register_reference(ctx, lake).await?;
    register_bronze(ctx, lake).await?;
    register_layer(ctx, lake, Layer::Silver).await?;
    register_layer(ctx, lake, Layer::Gold).await?;
    register_layer(ctx, lake, Layer::Ml).await?;
    Ok(())
}
