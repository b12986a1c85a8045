//! Writing a table as Parquet with one task per partition.
//!
//! DataFusion's own write (`DataFrame::write_parquet`, a `DataSinkExec`) requires its input in a
//! single partition: every partition is merged into one task that writes the files. On Ballista
//! that task is a stage of its own, reading every partition of the stage before it, and Ballista
//! 55 buffers a shuffle partition fetched from another executor whole. The executor that ran the
//! write of a large table held the other executor's share of it outside its memory pool (SF 100:
//! 13.1 GB for `silver.achats_dedupliques`, the README's "Writes" notes).
//!
//! [`ParquetWriteNode`] (logical) and [`ParquetWriteExec`] (physical) write each partition of
//! their input to a file of its own in the task that computes it: no stage boundary, no shuffle
//! read, and as many writers as partitions. Each task returns one row, the `count` of rows it
//! wrote; the caller sums them and checks the folder holds exactly that many. A partition with
//! no row writes no file. Files are named after the task attempt (on Ballista) or the partition
//! (DataFusion alone), and the object store publishes a file only when it is complete.
//!
//! The writer's options are the session's `datafusion.execution.parquet.*` as the task sees
//! them, so `--set` reaches the executors. The writer runs in the same task as the operators
//! that compute its rows (sorts, windows, joins), so it takes little of their memory: its
//! buffered row group is reserved in the task's pool as a consumer that can give memory back,
//! and the row group is closed early (a smaller row group) when it passes an eighth of the pool
//! or when the pool refuses it more. At SF 100, with the buffered row group unbounded, a writer
//! after `gold.ca_acheteurs`' global windows left their merge no room in a 512 MB task share.
//!
//! Writes stop when the `lake` command that runs them in-process is interrupted
//! ([`crate::write_gate`]).
//!
//! The nodes travel through Ballista with [`crate::codec`]; sessions plan them with
//! [`LakeQueryPlanner`].

use std::cmp::Ordering;
use std::fmt;
use std::sync::{Arc, LazyLock};

use async_trait::async_trait;
use datafusion::arrow::array::{ArrayRef, RecordBatch, UInt64Array};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::common::config::TableParquetOptions;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DFSchema, DFSchemaRef};
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::{QueryPlanner, TaskContext};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit};
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::logical_expr::{
    Expr, Extension, LogicalPlan, UserDefinedLogicalNode, UserDefinedLogicalNodeCore,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use datafusion::physical_planner::{DefaultPhysicalPlanner, ExtensionPlanner, PhysicalPlanner};
use futures::StreamExt;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::arrow_writer::ArrowWriterOptions;
use parquet::file::properties::WriterPropertiesBuilder;

use crate::write_gate;

/// A writer's buffered row group may hold at most this fraction (1/N) of its task's memory pool.
const WRITER_SHARE_OF_POOL: usize = 8;

/// The one column a write returns: rows written.
pub const COUNT_COLUMN: &str = "count";

static COUNT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![Field::new(
        COUNT_COLUMN,
        DataType::UInt64,
        false,
    )]))
});

static COUNT_DFSCHEMA: LazyLock<DFSchemaRef> = LazyLock::new(|| {
    // A schema of one unqualified field is always valid.
    Arc::new(
        DFSchema::try_from(COUNT_SCHEMA.as_ref().clone()).unwrap_or_else(|_| DFSchema::empty()),
    )
});

/// The file partition `partition` of a write goes to, in a plain DataFusion session.
pub fn part_file_name(partition: usize) -> String {
    format!("part-{partition:05}.parquet")
}

/// The file a write task writes its partition `partition` to. On Ballista the task runs a plan
/// restricted to its slice of the stage, where partitions are numbered from 0 in every task:
/// the task's identity (`TID <job>/<stage>.<attempt>/<task>.<attempt>`) goes in the name, so
/// two tasks, or two attempts of one, never write the same file.
fn task_file_name(task: Option<&str>, partition: usize) -> String {
    let Some(task) = task else {
        return part_file_name(partition);
    };
    let within_job = task.split_once('/').map_or(task, |(_, rest)| rest);
    let safe: String = within_job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("part-{safe}-{partition:05}.parquet")
}

/// A logical plan that writes the rows of `input` as Parquet files under the folder `url`.
pub fn write_plan(input: LogicalPlan, url: impl Into<String>) -> LogicalPlan {
    LogicalPlan::Extension(Extension {
        node: Arc::new(ParquetWriteNode {
            input,
            url: url.into(),
        }),
    })
}

/// Logical node: write `input` under the folder `url`, one file per partition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ParquetWriteNode {
    pub input: LogicalPlan,
    /// The folder, as a URL the session's object stores resolve (`file:///…/`, `s3://…/`).
    pub url: String,
}

impl PartialOrd for ParquetWriteNode {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        match self.url.cmp(&other.url) {
            Ordering::Equal => self.input.partial_cmp(&other.input),
            unequal => Some(unequal),
        }
    }
}

impl UserDefinedLogicalNodeCore for ParquetWriteNode {
    fn name(&self) -> &str {
        "ParquetWrite"
    }

    fn inputs(&self) -> Vec<&LogicalPlan> {
        vec![&self.input]
    }

    fn schema(&self) -> &DFSchemaRef {
        &COUNT_DFSCHEMA
    }

    fn expressions(&self) -> Vec<Expr> {
        Vec::new()
    }

    fn fmt_for_explain(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ParquetWrite: url={}", self.url)
    }

    fn with_exprs_and_inputs(
        &self,
        _exprs: Vec<Expr>,
        mut inputs: Vec<LogicalPlan>,
    ) -> Result<Self> {
        match (inputs.pop(), inputs.is_empty()) {
            (Some(input), true) => Ok(Self {
                input,
                url: self.url.clone(),
            }),
            _ => Err(DataFusionError::Internal(
                "ParquetWrite takes exactly one input".into(),
            )),
        }
    }
}

/// Physical node: task `i` writes partition `i` of `input` to `<url>/part-<i>.parquet` and
/// returns the number of rows it wrote.
#[derive(Debug)]
pub struct ParquetWriteExec {
    input: Arc<dyn ExecutionPlan>,
    url: String,
    properties: Arc<PlanProperties>,
}

impl ParquetWriteExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, url: impl Into<String>) -> Self {
        let partitions = input.properties().partitioning.partition_count();
        let properties = PlanProperties::new(
            EquivalenceProperties::new(COUNT_SCHEMA.clone()),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        Self {
            input,
            url: url.into(),
            properties: Arc::new(properties),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }
}

impl DisplayAs for ParquetWriteExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ParquetWriteExec: url={}", self.url)
    }
}

impl ExecutionPlan for ParquetWriteExec {
    fn name(&self) -> &'static str {
        "ParquetWriteExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// Any partitioning will do: each partition is written where it is.
    fn required_input_distribution(&self) -> Vec<Distribution> {
        vec![Distribution::UnspecifiedDistribution]
    }

    /// No repartitioning for the sake of the write: on Ballista it would add a shuffle.
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    /// Rows are written in the order they come, so an ordered input stays ordered in its file.
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        match (children.pop(), children.is_empty()) {
            (Some(input), true) => Ok(Arc::new(Self::new(input, self.url.clone()))),
            _ => Err(DataFusionError::Internal(
                "ParquetWriteExec takes exactly one input".into(),
            )),
        }
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context.clone())?;
        let url = self.url.clone();
        let written = futures::stream::once(async move {
            let rows = write_partition(input, &url, partition, &context).await?;
            count_batch(rows)
        })
        .boxed();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            COUNT_SCHEMA.clone(),
            written,
        )))
    }
}

fn count_batch(rows: u64) -> Result<RecordBatch> {
    let column = Arc::new(UInt64Array::from(vec![rows])) as ArrayRef;
    Ok(RecordBatch::try_new(COUNT_SCHEMA.clone(), vec![column])?)
}

/// The writer properties of the session the task runs in: `datafusion.execution.parquet.*`,
/// with the Arrow schema embedded unless `skip_arrow_metadata` says not to.
fn writer_options(context: &TaskContext, schema: &SchemaRef) -> Result<ArrowWriterOptions> {
    let mut options = TableParquetOptions {
        global: context.session_config().options().execution.parquet.clone(),
        ..Default::default()
    };
    if !options.global.skip_arrow_metadata {
        options.arrow_schema(schema);
    }
    let properties = WriterPropertiesBuilder::try_from(&options)?.build();
    Ok(ArrowWriterOptions::new()
        .with_properties(properties)
        .with_skip_arrow_metadata(options.global.skip_arrow_metadata))
}

/// Streams one partition into `<url>/part-<partition>.parquet`; returns the rows written. No
/// file is created for a partition without rows.
async fn write_partition(
    mut input: SendableRecordBatchStream,
    url: &str,
    partition: usize,
    context: &Arc<TaskContext>,
) -> Result<u64> {
    let folder = ListingTableUrl::parse(url)?;
    let store = context.runtime_env().object_store(folder.object_store())?;
    let name = task_file_name(context.task_id().as_deref(), partition);
    let location = Path::from_iter(
        folder
            .prefix()
            .parts()
            .chain(std::iter::once(name.as_str().into())),
    );
    let schema = input.schema();
    let reservation = MemoryConsumer::new(format!("ParquetWrite[{partition}]"))
        .with_can_spill(true)
        .register(context.memory_pool());
    let row_group_budget = match context.memory_pool().memory_limit() {
        MemoryLimit::Finite(bytes) => Some(bytes / WRITER_SHARE_OF_POOL),
        MemoryLimit::Infinite | MemoryLimit::Unknown => None,
    };
    let mut writer: Option<AsyncArrowWriter<BufWriter>> = None;
    let mut rows = 0u64;
    while let Some(batch) = input.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        let writer = match &mut writer {
            Some(writer) => writer,
            None => {
                let buffer = BufWriter::with_capacity(
                    store.clone(),
                    location.clone(),
                    context
                        .session_config()
                        .options()
                        .execution
                        .objectstore_writer_buffer_size,
                );
                writer.insert(AsyncArrowWriter::try_new_with_options(
                    buffer,
                    schema.clone(),
                    writer_options(context, &schema)?,
                )?)
            }
        };
        // Each step that may reach the store passes the gate (see `write_gate`).
        let pass = write_gate::enter().map_err(stopped)?;
        writer.write(&batch).await?;
        rows += batch.num_rows() as u64;
        let over_budget = row_group_budget.is_some_and(|budget| writer.memory_size() > budget);
        if over_budget || reservation.try_resize(writer.memory_size()).is_err() {
            // Close the row group being built now, a smaller one, and give its memory back.
            writer.flush().await?;
            reservation.try_resize(writer.memory_size())?;
        }
        drop(pass);
    }
    if let Some(writer) = writer {
        let _pass = write_gate::enter().map_err(stopped)?;
        writer.close().await?;
    }
    reservation.free();
    Ok(rows)
}

fn stopped(e: write_gate::Stopped) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Plans [`ParquetWriteNode`] as [`ParquetWriteExec`].
#[derive(Debug, Default)]
pub struct ParquetWritePlanner;

#[async_trait]
impl ExtensionPlanner for ParquetWritePlanner {
    async fn plan_extension(
        &self,
        _planner: &dyn PhysicalPlanner,
        node: &dyn UserDefinedLogicalNode,
        _logical_inputs: &[&LogicalPlan],
        physical_inputs: &[Arc<dyn ExecutionPlan>],
        _session: &dyn Session,
        _planning_ctx: &PhysicalPlanningContext,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(write) = node.as_any().downcast_ref::<ParquetWriteNode>() else {
            return Ok(None);
        };
        match physical_inputs {
            [input] => Ok(Some(Arc::new(ParquetWriteExec::new(
                input.clone(),
                write.url.clone(),
            )))),
            _ => Err(DataFusionError::Internal(
                "ParquetWrite takes exactly one input".into(),
            )),
        }
    }
}

/// DataFusion's planner, knowing the lake's own nodes. Every session that plans the lake's
/// jobs has it: plain DataFusion, Ballista's schedulers (standalone and `lake-scheduler`).
#[derive(Debug, Default)]
pub struct LakeQueryPlanner;

#[async_trait]
impl QueryPlanner for LakeQueryPlanner {
    async fn create_physical_plan(
        &self,
        logical_plan: &LogicalPlan,
        session: &dyn Session,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        DefaultPhysicalPlanner::with_extension_planners(vec![Arc::new(ParquetWritePlanner)])
            .create_physical_plan(logical_plan, session)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::Int64Array;
    use datafusion::datasource::MemTable;
    use datafusion::execution::SessionStateBuilder;
    use datafusion::prelude::{SessionConfig, SessionContext};

    fn session() -> SessionContext {
        session_with_pool(3, None)
    }

    fn session_with_pool(partitions: usize, pool_bytes: Option<usize>) -> SessionContext {
        let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new();
        if let Some(bytes) = pool_bytes {
            runtime = runtime.with_memory_limit(bytes, 1.0);
        }
        let state = SessionStateBuilder::new()
            .with_config(SessionConfig::new().with_target_partitions(partitions))
            .with_runtime_env(runtime.build_arc().expect("runtime"))
            .with_default_features()
            .with_query_planner(Arc::new(LakeQueryPlanner))
            .build();
        SessionContext::new_with_state(state)
    }

    fn batch(schema: &SchemaRef, values: &[i64]) -> RecordBatch {
        let column = Arc::new(Int64Array::from(values.to_vec())) as ArrayRef;
        RecordBatch::try_new(schema.clone(), vec![column]).expect("batch")
    }

    #[test]
    fn a_ballista_task_names_its_file_after_its_stage_and_attempt() {
        assert_eq!(
            task_file_name(Some("TID 8XbPx1/4.0/1.2"), 0),
            "part-4.0-1.2-00000.parquet"
        );
        assert_eq!(task_file_name(None, 7), "part-00007.parquet");
    }

    #[tokio::test]
    async fn each_partition_is_written_by_its_own_task_and_an_empty_one_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let ctx = session();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, false)]));
        let partitions = vec![
            vec![batch(&schema, &[1, 2, 3])],
            vec![],
            vec![batch(&schema, &[4]), batch(&schema, &[5, 6])],
        ];
        let table = MemTable::try_new(schema.clone(), partitions).expect("table");
        ctx.register_table("t", Arc::new(table)).expect("register");
        let url = format!("file://{}/out/", dir.path().display());

        let query = ctx.sql("SELECT x FROM t").await.expect("plan");
        let counts = ctx
            .execute_logical_plan(write_plan(query.into_unoptimized_plan(), &url))
            .await
            .expect("write plan")
            .collect()
            .await
            .expect("write");
        let mut counts: Vec<u64> = counts
            .iter()
            .flat_map(|b| {
                b.column(0)
                    .as_any()
                    .downcast_ref::<UInt64Array>()
                    .expect("counts")
                    .values()
                    .to_vec()
            })
            .collect();
        counts.sort();
        assert_eq!(counts, [0, 3, 3]);

        let mut files: Vec<String> = std::fs::read_dir(dir.path().join("out"))
            .expect("out")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        assert_eq!(files, ["part-00000.parquet", "part-00002.parquet"]);

        let read = ctx
            .read_parquet(
                format!("{url}part-00002.parquet"),
                datafusion::prelude::ParquetReadOptions::default(),
            )
            .await
            .expect("read plan")
            .aggregate(
                vec![],
                vec![
                    datafusion::functions_aggregate::expr_fn::count(datafusion::prelude::lit(1))
                        .alias("n"),
                    datafusion::functions_aggregate::expr_fn::sum(datafusion::prelude::col("x"))
                        .alias("total"),
                ],
            )
            .expect("aggregate")
            .collect()
            .await
            .expect("read");
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&read)
            .expect("format")
            .to_string();
        assert!(text.contains("| 3 | 15    |"), "{text}");
    }

    #[tokio::test]
    async fn a_writer_closes_its_row_groups_early_to_stay_within_an_eighth_of_the_pool() {
        let dir = tempfile::tempdir().expect("tmp");
        let ctx = session_with_pool(1, Some(4 * 1024 * 1024));
        let url = format!("file://{}/out/", dir.path().display());
        // 400 000 distinct 8-byte values in one partition: 3.2 MB, above the 512 KiB budget of a
        // 4 MiB pool, within DataFusion's default row group of 1 Mi rows.
        let query = ctx
            .sql("SELECT value * 7919 % 1000003 AS x FROM generate_series(1, 400000) AS t(value)")
            .await
            .expect("plan");
        let plan = write_plan(query.into_unoptimized_plan(), &url);
        ctx.execute_logical_plan(plan)
            .await
            .expect("write plan")
            .collect()
            .await
            .expect("write");
        let file = std::fs::File::open(dir.path().join("out/part-00000.parquet")).expect("file");
        let reader =
            parquet::file::serialized_reader::SerializedFileReader::new(file).expect("parquet");
        use parquet::file::reader::FileReader;
        let metadata = reader.metadata();
        assert_eq!(metadata.file_metadata().num_rows(), 400_000);
        assert!(
            metadata.num_row_groups() > 1,
            "{} row group(s)",
            metadata.num_row_groups()
        );
    }
}
