//! The SQL models of `sql/`: one file per table, named by layer, dbt style.
//!
//! `sql/silver/clients.sql` builds `silver.clients`; `sql/gold/dimensions/dim_rfm.sql` builds
//! `gold.dim_rfm`, published under `gold/…/dimensions/dim_rfm/`. A header line
//! `-- materialized: view` makes a model a view (planned into its readers, never written);
//! `-- materialized: staging` writes it as Parquet inside the run folder (`_staging/`) so its
//! readers scan it instead of recomputing it, without publishing it; tables (the default) are
//! written as Parquet and published. Models of one layer run in dependency order, found from the
//! `layer.table` names their SQL reads (as DataFusion's SQL parser lists them). `{{ name }}`
//! placeholders take run settings (`as_of`, thresholds), rendered as SQL literals by the runner.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use datafusion::sql::parser::DFParser;
use datafusion::sql::resolve::resolve_table_references;
use include_dir::{Dir, include_dir};

use crate::error::{LakeError, Result};
use crate::serving::{Serving, header_values, serving, summary};

/// The project's `sql/` folder, compiled into the binary so `lake` runs from anywhere.
static EMBEDDED_SQL: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../sql");

/// Published layers: Silver and Gold are built by the SQL models; `Ml` holds the tables the
/// machine-learning stage writes back beside Gold (`gold/ml/`), published on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Silver,
    Gold,
    Ml,
}

impl Layer {
    /// Name in messages and manifests.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Silver => "silver",
            Layer::Gold => "gold",
            Layer::Ml => "ml",
        }
    }

    /// Schema its tables are registered in: `gold.segments_ml` for the ML tables.
    pub fn schema(self) -> &'static str {
        match self {
            Layer::Silver => "silver",
            Layer::Gold | Layer::Ml => "gold",
        }
    }

    /// Folder of the layer in the lake: its `_current.json` and `runs/`.
    pub fn root(self) -> &'static str {
        match self {
            Layer::Silver => "silver",
            Layer::Gold => "gold",
            Layer::Ml => "gold/ml",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Materialized {
    /// Written and published.
    Table,
    /// Written in the run folder for the models that read it, not published.
    Staging,
    /// Planned into the models that read it.
    View,
    /// Written by Rust code, not by SQL (the ML stage's tables): the file only declares the
    /// table for the serving catalogue.
    External,
}

#[derive(Debug, Clone)]
pub struct Model {
    pub layer: Layer,
    /// Table name inside the layer (`dim_rfm`).
    pub table: String,
    /// Folder under the layer's run prefix (`dimensions`), empty for Silver.
    pub folder: String,
    pub materialized: Materialized,
    /// Path of the file inside `sql/`, for messages.
    pub file: String,
    pub sql: String,
    /// Tables of the same layer this model reads.
    pub depends_on: BTreeSet<String>,
    /// How the API serves it, from its `serve:` header (see [`crate::serving`]).
    pub serving: Option<Serving>,
    /// The first sentence of its header.
    pub summary: String,
}

impl Model {
    /// `silver.clients`, `gold.dim_rfm`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.layer.schema(), self.table)
    }

    /// Key of the model's output folder relative to the layer's run prefix.
    pub fn output_folder(&self) -> String {
        if self.folder.is_empty() {
            self.table.clone()
        } else {
            format!("{}/{}", self.folder, self.table)
        }
    }

    /// The SQL with every `{{ name }}` replaced from `vars`; an unknown name is an error.
    pub fn render(&self, vars: &BTreeMap<String, String>) -> Result<String> {
        render_template(&self.file, &self.sql, vars)
    }
}

/// `sql` with every `{{ name }}` replaced from `vars`; errors name `file`.
fn render_template(file: &str, sql: &str, vars: &BTreeMap<String, String>) -> Result<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| LakeError::model(file, "unclosed {{ placeholder".to_string()))?;
        let name = after[..end].trim();
        let value = vars.get(name).ok_or_else(|| {
            LakeError::model(
                file,
                format!(
                    "unknown placeholder {{{{ {name} }}}} (known: {})",
                    vars.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `sql` with every `{{ name }}` placeholder replaced by `NULL`, so it parses without settings.
fn with_null_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                out.push_str("NULL");
                rest = &rest[start + end + 2..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Tables of `layer` that a model's SQL reads, as DataFusion's own parser resolves them: names in
/// comments and string literals, CTE names and columns are not tables. Errors name `file`.
fn table_references(file: &str, sql: &str, layer: &str) -> Result<BTreeSet<String>> {
    let statements = DFParser::parse_sql(&with_null_placeholders(sql))
        .map_err(|e| LakeError::model(file, format!("cannot parse the SQL: {e}")))?;
    let mut found = BTreeSet::new();
    for statement in &statements {
        let (relations, _ctes) = resolve_table_references(statement, true)
            .map_err(|e| LakeError::model(file, format!("cannot list the tables read: {e}")))?;
        found.extend(
            relations
                .iter()
                .filter(|r| r.schema() == Some(layer))
                .map(|r| r.table().to_string()),
        );
    }
    Ok(found)
}

/// The `-- materialized: …` header of a model (default: table).
fn materialization(file: &str, sql: &str) -> Result<Materialized> {
    let header = header_values(sql, "materialized")
        .first()
        .map(|v| v.to_lowercase());
    match header.as_deref() {
        None | Some("table") => Ok(Materialized::Table),
        Some("staging") => Ok(Materialized::Staging),
        Some("view") => Ok(Materialized::View),
        Some("external") => Ok(Materialized::External),
        Some(other) => Err(LakeError::model(
            file,
            format!(
                "unknown materialization {other:?} (expected table, staging, view or external)"
            ),
        )),
    }
}

/// All models of a `sql/` folder.
#[derive(Debug, Clone)]
pub struct SqlProject {
    models: Vec<Model>,
    /// Reference CSV files (`reference/pays.csv` → content).
    references: BTreeMap<String, String>,
    /// Parameterised queries that are not models (`ml/features_clients.sql` → SQL): the ML
    /// stage runs them at several cutoffs.
    queries: BTreeMap<String, String>,
}

impl SqlProject {
    /// The `sql/` folder compiled into this binary.
    pub fn embedded() -> Result<Self> {
        let mut files = Vec::new();
        collect_embedded(&EMBEDDED_SQL, &mut files);
        Self::from_files(files)
    }

    /// A `sql/` folder on disk (to try edited models without rebuilding).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let mut files = Vec::new();
        collect_disk(dir, dir, &mut files)?;
        Self::from_files(files)
    }

    fn from_files(files: Vec<(String, String)>) -> Result<Self> {
        let mut models = Vec::new();
        let mut references = BTreeMap::new();
        let mut queries = BTreeMap::new();
        for (path, text) in files {
            let parts: Vec<&str> = path.split('/').collect();
            if parts.first() == Some(&"reference") && path.ends_with(".csv") {
                references.insert(path.clone(), text);
                continue;
            }
            if !path.ends_with(".sql") {
                continue;
            }
            let layer = match parts.as_slice() {
                ["silver", ..] => Layer::Silver,
                ["gold", ..] => Layer::Gold,
                ["ml", "outputs", _] => Layer::Ml,
                ["ml", ..] => {
                    queries.insert(path.clone(), text);
                    continue;
                }
                _ => continue,
            };
            let file_name = parts.last().copied().unwrap_or_default();
            let table = file_name.trim_end_matches(".sql").to_string();
            let folder = if layer == Layer::Gold {
                parts[1..parts.len() - 1].join("/")
            } else {
                String::new()
            };
            let file = format!("sql/{path}");
            let materialized = materialization(&file, &text)?;
            if (layer == Layer::Ml) != (materialized == Materialized::External) {
                return Err(LakeError::model(
                    &file,
                    "only the ML stage's declarations (sql/ml/outputs/) are external".to_string(),
                ));
            }
            let serving = serving(&file, &text)?;
            if serving.is_some()
                && matches!(materialized, Materialized::View | Materialized::Staging)
            {
                return Err(LakeError::model(
                    &file,
                    "a view or staging model is not published, so it cannot be served".to_string(),
                ));
            }
            let mut depends_on = table_references(&file, &text, layer.name())?;
            depends_on.remove(&table);
            let summary = summary(&text, &format!("{}.{table}", layer.schema()));
            models.push(Model {
                layer,
                table,
                folder,
                materialized,
                file,
                sql: text,
                depends_on,
                serving,
                summary,
            });
        }
        let project = Self {
            models,
            references,
            queries,
        };
        for layer in [Layer::Silver, Layer::Gold] {
            project.in_order(layer)?;
        }
        Ok(project)
    }

    /// The models of a layer, each after the models it reads (ties in name order).
    pub fn in_order(&self, layer: Layer) -> Result<Vec<&Model>> {
        let mut pending: BTreeMap<&str, &Model> = self
            .models
            .iter()
            .filter(|m| m.layer == layer)
            .map(|m| (m.table.as_str(), m))
            .collect();
        for m in pending.values() {
            if let Some(missing) = m
                .depends_on
                .iter()
                .find(|d| !pending.contains_key(d.as_str()))
            {
                return Err(LakeError::model(
                    &m.file,
                    format!("reads {}.{missing}, which no model builds", layer.name()),
                ));
            }
        }
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut ordered = Vec::new();
        while !pending.is_empty() {
            let ready: Vec<&str> = pending
                .iter()
                .filter(|(_, m)| m.depends_on.iter().all(|d| done.contains(d.as_str())))
                .map(|(name, _)| *name)
                .collect();
            if ready.is_empty() {
                let cycle: Vec<&str> = pending.keys().copied().collect();
                return Err(LakeError::model(
                    layer.name(),
                    format!("dependency cycle among {}", cycle.join(", ")),
                ));
            }
            for name in ready {
                if let Some(m) = pending.remove(name) {
                    ordered.push(m);
                    done.insert(name);
                }
            }
        }
        Ok(ordered)
    }

    /// The models of `layer` that a rebuild of `selectors` runs: each `name`, or with `name+`
    /// it and every model that reads it (directly or not), together with everything these read
    /// in the layer, so that no model run reads a table carried over from another run. An
    /// unknown name is an error listing the layer's models.
    pub fn selection(&self, layer: Layer, selectors: &[String]) -> Result<BTreeSet<String>> {
        let models: BTreeMap<&str, &Model> = self
            .models
            .iter()
            .filter(|m| m.layer == layer && m.materialized != Materialized::External)
            .map(|m| (m.table.as_str(), m))
            .collect();
        let mut chosen = BTreeSet::new();
        for selector in selectors {
            let (name, downstream) = match selector.strip_suffix('+') {
                Some(name) => (name, true),
                None => (selector.as_str(), false),
            };
            let name = name
                .strip_prefix(&format!("{}.", layer.schema()))
                .unwrap_or(name);
            if !models.contains_key(name) {
                let known: Vec<&str> = models.keys().copied().collect();
                return Err(LakeError::Selection(format!(
                    "--select {selector}: no {} model is named {name}; the models are {}",
                    layer.name(),
                    known.join(", ")
                )));
            }
            chosen.insert(name.to_string());
            if downstream {
                // Every model reading a chosen one, until none is added.
                loop {
                    let readers: Vec<String> = models
                        .values()
                        .filter(|m| !chosen.contains(&m.table))
                        .filter(|m| m.depends_on.iter().any(|d| chosen.contains(d)))
                        .map(|m| m.table.clone())
                        .collect();
                    if readers.is_empty() {
                        break;
                    }
                    chosen.extend(readers);
                }
            }
        }
        // Everything the chosen models read, until none is added.
        let mut pending: Vec<String> = chosen.iter().cloned().collect();
        while let Some(name) = pending.pop() {
            let Some(model) = models.get(name.as_str()) else {
                continue;
            };
            for dependency in &model.depends_on {
                if chosen.insert(dependency.clone()) {
                    pending.push(dependency.clone());
                }
            }
        }
        Ok(chosen)
    }

    /// Every model, external declarations included.
    pub fn models(&self) -> &[Model] {
        &self.models
    }

    pub fn model(&self, qualified: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.qualified_name() == qualified)
    }

    /// A parameterised query of the project (`ml/features_clients.sql`), rendered with `vars`.
    pub fn render_query(&self, path: &str, vars: &BTreeMap<String, String>) -> Result<String> {
        let file = format!("sql/{path}");
        let sql = self.queries.get(path).ok_or_else(|| {
            LakeError::model(&file, "no such query in the SQL project".to_string())
        })?;
        render_template(&file, sql, vars)
    }

    /// Reference CSV files: (`reference/pays.csv`, content).
    pub fn references(&self) -> &BTreeMap<String, String> {
        &self.references
    }
}

fn collect_embedded(dir: &Dir<'_>, out: &mut Vec<(String, String)>) {
    for file in dir.files() {
        if let Some(text) = file.contents_utf8() {
            out.push((
                file.path().to_string_lossy().replace('\\', "/"),
                text.to_string(),
            ));
        }
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

fn collect_disk(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<()> {
    let io = |source| LakeError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect_disk(root, &path, out)?;
        } else {
            let rel = path
                .strip_prefix(root)
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|source| LakeError::Io {
                path: path.clone(),
                source,
            })?;
            out.push((rel, text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_ignore_comments_and_longer_names() {
        let sql = "-- reads gold.not_this\nSELECT * FROM gold.fact_achats f JOIN gold.dim_clients c ON x.gold.y = 1\nJOIN silver.achats a";
        let refs = table_references("t.sql", sql, "gold").expect("parses");
        assert_eq!(
            refs,
            BTreeSet::from(["fact_achats".into(), "dim_clients".into()])
        );
    }

    #[test]
    fn references_ignore_literals_ctes_and_placeholders() {
        let sql = "WITH gold_recent AS (SELECT * FROM gold.fact_achats WHERE date_achat < {{ as_of }})\n\
                   SELECT 'gold.kpi_globaux' AS note, 'x -- gold.lorenz' AS other\n\
                   FROM gold_recent JOIN gold.dim_clients USING (id_client)";
        let refs = table_references("t.sql", sql, "gold").expect("parses");
        assert_eq!(
            refs,
            BTreeSet::from(["fact_achats".into(), "dim_clients".into()])
        );
        let err = table_references("sql/gold/broken.sql", "SELEC 1", "gold").expect_err("not SQL");
        assert!(err.to_string().contains("sql/gold/broken.sql"), "{err}");
    }

    #[test]
    fn render_replaces_and_rejects_unknown() {
        let m = Model {
            layer: Layer::Silver,
            table: "t".into(),
            folder: String::new(),
            materialized: Materialized::Table,
            file: "sql/silver/t.sql".into(),
            sql: "SELECT {{ as_of }} AS a, {{seuil}} AS b".into(),
            depends_on: BTreeSet::new(),
            serving: None,
            summary: String::new(),
        };
        let vars = BTreeMap::from([
            (
                "as_of".to_string(),
                "TIMESTAMP '2026-01-01 00:00:00'".to_string(),
            ),
            ("seuil".to_string(), "10000".to_string()),
        ]);
        assert_eq!(
            m.render(&vars).expect("renders"),
            "SELECT TIMESTAMP '2026-01-01 00:00:00' AS a, 10000 AS b"
        );
        let err = m.render(&BTreeMap::new()).expect_err("unknown name");
        assert!(err.to_string().contains("as_of"));
    }

    #[test]
    fn embedded_project_orders_every_layer() {
        let project = SqlProject::embedded().expect("embedded sql parses");
        for layer in [Layer::Silver, Layer::Gold] {
            let ordered = project.in_order(layer).expect("no cycle");
            let position = |t: &str| ordered.iter().position(|m| m.table == t);
            for (i, m) in ordered.iter().enumerate() {
                for d in &m.depends_on {
                    assert!(position(d) < Some(i), "{} before {}", d, m.table);
                }
            }
        }
        assert!(project.references().contains_key("reference/pays.csv"));
    }

    #[test]
    fn a_selection_is_the_models_named_with_what_they_read_and_with_plus_their_readers() {
        // From the headers of sql/gold: kpi_clv reads gold.parametres (which reads Silver
        // only); kpi_clv_deciles and kpi_globaux read kpi_clv.
        let project = SqlProject::embedded().expect("embedded sql parses");
        let select = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            project.selection(Layer::Gold, &names)
        };
        let alone = select(&["kpi_clv"]).expect("known");
        assert_eq!(
            alone.iter().map(String::as_str).collect::<Vec<_>>(),
            ["kpi_clv", "parametres"]
        );
        assert_eq!(select(&["gold.kpi_clv"]).expect("qualified"), alone);
        let readers = select(&["kpi_clv+"]).expect("known");
        for name in ["kpi_clv", "parametres", "kpi_clv_deciles", "kpi_globaux"] {
            assert!(readers.contains(name), "{name} in {readers:?}");
        }
        // What kpi_globaux reads comes along; what nothing selected reads does not.
        assert!(readers.contains("rfm_par_client"), "{readers:?}");
        assert!(!readers.contains("dim_temps"), "{readers:?}");
        let unknown = select(&["kpi_clvv"]).expect_err("unknown");
        assert!(unknown.to_string().contains("kpi_clv,"), "{unknown}");
    }
}
