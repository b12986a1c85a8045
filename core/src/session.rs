//! A lake session: the lake storage, an engine context with every published table registered,
//! and the SQL project. The stages of `lake run` are methods on it.

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;

use crate::catalog;
use crate::engine::{self, EngineKind};
use crate::error::{LakeError, Result, query_error};
use crate::ingest::{self, BronzeManifest, IngestReport};
use crate::memory::{MemorySettings, Spilled};
use crate::models::{Layer, SqlProject};
use crate::pipeline::{self, LayerContext, ModelEvent, RunSettings};
use crate::publish::{InputRef, LayerManifest};
use crate::storage::{Lake, S3Options};

/// Where the lake is and what runs its SQL.
#[derive(Debug, Clone)]
pub struct LakeOptions {
    /// Local folder or `s3://bucket/prefix`.
    pub location: String,
    pub s3: S3Options,
    pub engine: EngineKind,
    /// Partitions per query; None: one per core, and on a cluster sized from the data by each
    /// Silver and Gold run ([`LakeSession::fit_partitions_to_data`]).
    pub partitions: Option<usize>,
    /// Run the models of this `sql/` folder instead of the ones compiled in.
    pub sql_dir: Option<PathBuf>,
    /// Session settings (`datafusion.*`, `ballista.*`), applied after the engine's own.
    pub settings: Vec<(String, String)>,
    /// Longest a single job (one model, one query) may run; None: no limit.
    pub job_timeout: Option<std::time::Duration>,
    /// The memory pool and spill folder of the queries run in this process (standalone,
    /// DataFusion); a cluster's executors have their own.
    pub memory: MemorySettings,
}

impl LakeOptions {
    pub fn local(location: impl Into<String>) -> Self {
        Self {
            location: location.into(),
            s3: S3Options::default(),
            engine: EngineKind::Standalone,
            partitions: None,
            sql_dir: None,
            settings: Vec::new(),
            job_timeout: Some(crate::pipeline::DEFAULT_JOB_TIMEOUT),
            memory: MemorySettings::default(),
        }
    }
}

/// Partitions sized from the data on a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizedPartitions {
    pub partitions: usize,
    /// Purchases in Bronze they were sized from.
    pub purchases: u64,
}

pub struct LakeSession {
    pub lake: Lake,
    pub ctx: SessionContext,
    pub project: SqlProject,
    pub engine: EngineKind,
    pub job_timeout: Option<std::time::Duration>,
    /// Whether Silver and Gold size their partitions from the data (a cluster, with no
    /// partition count chosen by `--partitions` or a `target_partitions` setting).
    partitions_from_data: bool,
    /// Kept alive with the session (the standalone scheduler and its executor's work folder).
    resources: engine::EngineResources,
}

impl LakeSession {
    /// Opens the lake, connects the engine and registers every published table.
    pub async fn open(options: &LakeOptions) -> Result<Self> {
        let lake = Lake::open(&options.location, &options.s3)?;
        if lake.is_s3() {
            lake.probe().await?;
        }
        let project = match &options.sql_dir {
            Some(dir) => SqlProject::from_dir(dir)?,
            None => SqlProject::embedded()?,
        };
        let partitions_chosen = options.partitions.is_some()
            || options
                .settings
                .iter()
                .any(|(key, _)| key == engine::TARGET_PARTITIONS);
        let (ctx, resources) = engine::connect(
            &options.engine,
            &lake,
            &options.s3,
            options
                .partitions
                .unwrap_or_else(engine::default_partitions),
            &options.memory,
        )
        .await?;
        engine::apply_settings(&ctx, &options.settings)?;
        catalog::register_all(&ctx, &lake).await?;
        Ok(Self {
            lake,
            ctx,
            project,
            engine: options.engine.clone(),
            job_timeout: options.job_timeout,
            partitions_from_data: !partitions_chosen
                && matches!(options.engine, EngineKind::Remote(_)),
            resources,
        })
    }

    /// What the queries of this process have spilled so far (standalone and DataFusion; on a
    /// cluster the executors spill, and log it).
    pub fn spilled(&self) -> Spilled {
        self.resources.spill.read()
    }

    /// Partitions per query of this session now.
    pub fn partitions(&self) -> usize {
        self.ctx.state().config().target_partitions()
    }

    /// On a cluster with no partition count chosen, sizes the partitions of the next queries
    /// from the purchases in Bronze ([`engine::cluster_partitions`]) and returns the count and
    /// the purchases it came from; None elsewhere (the count stays as chosen). Silver and Gold
    /// runs call it; calling it again gives the same count while Bronze is unchanged.
    pub async fn fit_partitions_to_data(&self) -> Result<Option<SizedPartitions>> {
        if !self.partitions_from_data {
            return Ok(None);
        }
        let bronze = BronzeManifest::load(&self.lake).await?;
        let purchases = bronze
            .files_of(ingest::Entity::Achats)
            .map(|file| file.rows)
            .sum();
        let partitions = engine::cluster_partitions(purchases, engine::default_partitions());
        engine::apply_settings(
            &self.ctx,
            &[(
                engine::TARGET_PARTITIONS.to_string(),
                partitions.to_string(),
            )],
        )?;
        Ok(Some(SizedPartitions {
            partitions,
            purchases,
        }))
    }

    /// `lake ingest`: CSV files of a folder into Bronze; the Bronze tables are re-registered.
    pub async fn ingest(
        &self,
        source_dir: &Path,
        on_file: impl FnMut(&str),
    ) -> Result<IngestReport> {
        let report = ingest::ingest_folder(&self.lake, source_dir, on_file).await?;
        catalog::register_bronze(&self.ctx, &self.lake).await?;
        Ok(report)
    }

    /// Bronze → Silver, with the quality gate; publishes Silver.
    pub async fn run_silver(
        &self,
        settings: &RunSettings,
        on_event: impl FnMut(ModelEvent<'_>),
    ) -> Result<LayerManifest> {
        for (key, text) in self.project.references() {
            self.lake.put(key, text.clone().into_bytes()).await?;
        }
        catalog::register_reference(&self.ctx, &self.lake).await?;
        let bronze: BronzeManifest = catalog::register_bronze(&self.ctx, &self.lake).await?;
        for entity in ingest::Entity::ALL {
            if bronze.files_of(entity).next().is_none() {
                return Err(LakeError::MissingSource {
                    entity: entity.name().to_string(),
                });
            }
        }
        self.fit_partitions_to_data().await?;
        let engine = self.engine.to_string();
        let inputs = silver_inputs(&bronze);
        let run = pipeline::run_layer(
            &self.layer_context(&engine),
            Layer::Silver,
            settings,
            inputs,
            None,
            on_event,
        )
        .await;
        self.settle_timeout(run).await
    }

    /// Silver → Gold; publishes Gold. With `select` (model names, `name+` for a model and its
    /// readers; see [`SqlProject::selection`]), only those models and what they read are run;
    /// the other tables are copied from the published Gold, which must have been built from the
    /// current Silver with the same settings.
    pub async fn run_gold(
        &self,
        settings: &RunSettings,
        select: &[String],
        on_event: impl FnMut(ModelEvent<'_>),
    ) -> Result<LayerManifest> {
        let silver = catalog::register_layer(&self.ctx, &self.lake, Layer::Silver)
            .await?
            .ok_or_else(|| LakeError::NotPublished {
                layer: "silver".into(),
            })?;
        let inputs = vec![InputRef {
            name: "silver".into(),
            version: silver.run_id.clone(),
        }];
        let selection = if select.is_empty() {
            None
        } else {
            Some(self.gold_selection(settings, select, &inputs).await?)
        };
        self.fit_partitions_to_data().await?;
        let engine = self.engine.to_string();
        let run = pipeline::run_layer(
            &self.layer_context(&engine),
            Layer::Gold,
            settings,
            inputs,
            selection.as_ref(),
            on_event,
        )
        .await;
        self.settle_timeout(run).await
    }

    /// What a `--select` rebuild of Gold runs, and the published Gold it carries the other
    /// tables from: refused when that Gold was built from other inputs or settings, since its
    /// tables would then not belong with the rebuilt ones.
    async fn gold_selection(
        &self,
        settings: &RunSettings,
        select: &[String],
        inputs: &[InputRef],
    ) -> Result<pipeline::Selection> {
        let models = self.project.selection(Layer::Gold, select)?;
        let carried = crate::publish::current(&self.lake, Layer::Gold)
            .await?
            .ok_or_else(|| {
                LakeError::Selection(
                    "--select rebuilds part of the published Gold, and Gold has not been \
                     published: run `lake gold` without --select"
                        .into(),
                )
            })?;
        let whole = "rebuild all of Gold (without --select)";
        if carried.inputs != inputs {
            let built_on = |refs: &[InputRef]| {
                refs.iter()
                    .map(|i| format!("{} {}", i.name, i.version))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(LakeError::Selection(format!(
                "the published Gold (run {}) was built from {}, and Gold would now read {}: \
                 {whole}",
                carried.run_id,
                built_on(&carried.inputs),
                built_on(inputs)
            )));
        }
        // The SQL may differ (editing a model and rebuilding it is what --select is for): the
        // tables carried are those of models left out, as they were built.
        let without_sql = |settings: &std::collections::BTreeMap<String, String>| {
            let mut settings = settings.clone();
            settings.remove(pipeline::SQL_FINGERPRINT);
            settings
        };
        let recorded = pipeline::recorded_settings(&self.project, Layer::Gold, settings)?;
        if without_sql(&carried.settings) != without_sql(&recorded) {
            return Err(LakeError::Selection(format!(
                "the published Gold (run {}) was built with other settings (as_of or \
                 thresholds): {whole}",
                carried.run_id
            )));
        }
        Ok(pipeline::Selection { models, carried })
    }

    /// The current run of Silver or Gold when it was built from what the layer would read now
    /// (the Bronze files, or the current Silver run) with the same settings: building the layer
    /// again would give the same tables.
    pub async fn current_if_up_to_date(
        &self,
        layer: Layer,
        settings: &RunSettings,
    ) -> Result<Option<LayerManifest>> {
        let inputs = match layer {
            Layer::Silver => silver_inputs(&BronzeManifest::load(&self.lake).await?),
            Layer::Gold => match crate::publish::current(&self.lake, Layer::Silver).await? {
                Some(silver) => vec![InputRef {
                    name: "silver".into(),
                    version: silver.run_id,
                }],
                None => return Ok(None),
            },
            Layer::Ml => return Ok(None),
        };
        let recorded = pipeline::recorded_settings(&self.project, layer, settings)?;
        Ok(crate::publish::current(&self.lake, layer)
            .await?
            .filter(|m| m.inputs == inputs && m.settings == recorded))
    }

    /// A job abandoned on timeout may still run on the in-process scheduler: cancel it there,
    /// and say in the error where it stopped. (On a remote cluster the CLI does the same through
    /// the scheduler's REST API.)
    async fn settle_timeout<T>(&self, result: Result<T>) -> Result<T> {
        match (result, &self.resources.standalone) {
            (
                Err(LakeError::JobTimeout {
                    job,
                    seconds,
                    mut stopped,
                }),
                Some(scheduler),
            ) => {
                let cancelled = scheduler.cancel_named(&job).await;
                if cancelled.is_empty() {
                    stopped.push("it had not reached the scheduler yet: still planning".into());
                }
                stopped.extend(cancelled);
                Err(LakeError::JobTimeout {
                    job,
                    seconds,
                    stopped,
                })
            }
            (result, _) => result,
        }
    }

    fn layer_context<'a>(&'a self, engine: &'a str) -> LayerContext<'a> {
        LayerContext {
            ctx: &self.ctx,
            lake: &self.lake,
            project: &self.project,
            engine,
            job_timeout: self.job_timeout,
        }
    }

    /// Runs a SQL query and collects its result.
    pub async fn query(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        engine::name_next_jobs(&self.ctx, "lake sql");
        let job = async {
            let frame = match self.ctx.sql(sql).await {
                Ok(frame) => frame,
                Err(e) => {
                    let missing = match missing_table_name(&e.to_string()) {
                        Some((schema, table)) => self.explain_missing(&schema, &table).await,
                        None => None,
                    };
                    return Err(missing.unwrap_or_else(|| query_error(e)));
                }
            };
            frame.collect().await.map_err(query_error)
        };
        let result = crate::pipeline::bounded(self.job_timeout, "lake sql", job).await;
        self.settle_timeout(result).await
    }

    /// Why `schema.table` is not there, when the lake can say: the layer that holds it was
    /// never published (naming the command that publishes it), or its published run has no
    /// such table (naming those it has). `None` for a schema that is not a layer's.
    async fn explain_missing(&self, schema: &str, table: &str) -> Option<LakeError> {
        let root = self.lake.root();
        let name = format!("{schema}.{table}");
        let never = |layer: &str, command: &str| {
            LakeError::MissingTable(format!(
                "{name}: the {layer} layer has not been published in {root} yet; `lake {command}` \
                 publishes it (`lake run` runs the whole pipeline)"
            ))
        };
        let tables_of = |manifests: &[&LayerManifest]| {
            manifests
                .iter()
                .flat_map(|m| m.tables.keys().map(|t| format!("{schema}.{t}")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let current = |layer| crate::publish::current(&self.lake, layer);
        match schema {
            "bronze" => {
                let manifest = BronzeManifest::load(&self.lake).await.ok()?;
                manifest
                    .files
                    .is_empty()
                    .then(|| never("bronze", "ingest --sources FOLDER"))
            }
            "silver" => match current(Layer::Silver).await.ok()? {
                None => Some(never("silver", "silver")),
                Some(silver) => Some(LakeError::MissingTable(format!(
                    "{name} is not a table of the published Silver (run {}): its tables are {}",
                    silver.run_id,
                    tables_of(&[&silver])
                ))),
            },
            "gold" => {
                let Some(gold) = current(Layer::Gold).await.ok()? else {
                    return Some(never("gold", "gold"));
                };
                let ml = current(Layer::Ml).await.ok()?;
                let is_ml_table = self
                    .project
                    .model(&name)
                    .is_some_and(|m| m.layer == Layer::Ml);
                match ml {
                    None if is_ml_table => Some(LakeError::MissingTable(format!(
                        "{name} is written by the ML stage, which has not been published in \
                         {root} yet: `lake ml` publishes it"
                    ))),
                    ml => {
                        let mut runs = vec![&gold];
                        runs.extend(ml.as_ref());
                        Some(LakeError::MissingTable(format!(
                            "{name} is not a table of the published Gold (run {}{}): its tables \
                             are {}",
                            gold.run_id,
                            ml.as_ref()
                                .map(|m| format!(", ML run {}", m.run_id))
                                .unwrap_or_default(),
                            tables_of(&runs)
                        )))
                    }
                }
            }
            _ => None,
        }
    }

    /// The headline KPIs and the largest RFM segments of the published Gold.
    pub async fn summary(&self) -> Result<(Vec<RecordBatch>, Vec<RecordBatch>)> {
        let kpis = self
            .query(
                "SELECT ca_total, nb_achats, nb_clients_acheteurs, nb_clients_inscrits, \
                 ROUND(panier_moyen, 2) AS panier_moyen, ROUND(gini, 3) AS gini, \
                 ROUND(part_ca_top20, 3) AS part_ca_top20, ROUND(clv_moyenne, 2) AS clv_moyenne, \
                 ROUND(taux_retention_moyen, 3) AS taux_retention_moyen, date_min, date_max \
                 FROM gold.kpi_globaux",
            )
            .await?;
        let segments = self
            .query(
                "SELECT segment, COUNT(*) AS clients, SUM(montant) AS ca \
                 FROM gold.dim_rfm GROUP BY segment ORDER BY clients DESC, segment LIMIT 5",
            )
            .await?;
        Ok((kpis, segments))
    }
}

/// What a Silver run reads: every Bronze file, with its content hash.
fn silver_inputs(bronze: &BronzeManifest) -> Vec<InputRef> {
    bronze
        .files
        .iter()
        .map(|f| InputRef {
            name: f.source_name.clone(),
            version: f.sha256.clone(),
        })
        .collect()
}

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DDTHH:MM:SS`.
pub fn parse_as_of(text: &str) -> Result<NaiveDateTime> {
    let t = text.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| {
            chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .map(|d| d.and_time(chrono::NaiveTime::MIN))
        })
        .map_err(|_| LakeError::BadSetting {
            name: "as_of".into(),
            reason: format!("{text:?}: expected YYYY-MM-DD or YYYY-MM-DD HH:MM:SS"),
        })
}

/// The entities a folder holds source files of (`clients*.csv`, `achats*.csv`); empty when the
/// folder is missing or holds none.
pub fn source_entities(dir: &Path) -> std::collections::BTreeSet<ingest::Entity> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Default::default();
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .filter_map(|e| ingest::Entity::of_file(&e.file_name().to_string_lossy()))
        .collect()
}

/// True when a folder holds at least one `clients*.csv` and one `achats*.csv`.
pub fn has_sources(dir: &Path) -> bool {
    source_entities(dir).len() == ingest::Entity::ALL.len()
}

/// The `(schema, table)` of DataFusion's "table '…' not found" in an error's text.
fn missing_table_name(text: &str) -> Option<(String, String)> {
    let start = text.find("table '")? + "table '".len();
    let rest = &text[start..];
    let end = rest.find("' not found")?;
    let mut parts = rest[..end].rsplit('.');
    let table = parts.next()?.to_string();
    let schema = parts.next()?.to_string();
    Some((schema, table))
}

#[cfg(test)]
mod tests {
    use super::missing_table_name;

    #[test]
    fn the_schema_and_table_are_read_from_datafusion_s_message() {
        assert_eq!(
            missing_table_name(
                "Error during planning: table 'datafusion.gold.kpi_globaux' not found"
            ),
            Some(("gold".into(), "kpi_globaux".into()))
        );
        assert_eq!(
            missing_table_name("table 'silver.clients' not found"),
            Some(("silver".into(), "clients".into()))
        );
        assert_eq!(missing_table_name("table 'clients' not found"), None);
        assert_eq!(missing_table_name("column 'x' not found"), None);
    }
}
