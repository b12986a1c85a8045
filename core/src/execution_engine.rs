//! The executors' query-stage engine: Ballista's own, minus the per-operator metrics it reports
//! with each finished task.
//!
//! Ballista 55's scheduler keeps a stage's operator metrics as one list per stage, shaped by the
//! first task that reports, and refuses the status of a later task whose list has another length
//! ("task metrics array size 17 does not equal with the stage metrics array size 18"). The
//! refusal is only logged: the task never counts as finished, and the job waits for ever. The
//! length does vary between tasks of one stage on empty input (an operator that never ran
//! reports no metrics): seen on the cluster and on standalone with a purchase file holding its
//! header alone, in `gold.saisonnalite`. A task that reports no operator metrics is accepted
//! as it is, so this engine reports none. Nothing of the lake reads them (`lake jobs` reads the
//! scheduler's job list and event logs); task statuses, shuffle locations and every other
//! report of a task go through unchanged.

use std::fmt;
use std::sync::Arc;

use ballista_core::JobId;
use ballista_core::serde::protobuf::{
    RuntimeStatsReport, ShuffleWritePartition, TaskColumnStats, WindowStateReport,
};
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::error::Result;
use datafusion::execution::context::TaskContext;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::metrics::MetricsSet;
use datafusion::prelude::SessionConfig;

/// Ballista's default execution engine, its query stages reporting no per-operator metrics.
///
/// (Ballista's cluster executor pools its Flight clients for shuffle reads; that pool is private
/// to `ballista-executor`, so executors with this engine open a client per read, as Ballista's
/// standalone executor always has.)
pub struct WithoutOperatorMetrics {
    inner: Arc<dyn ExecutionEngine>,
}

impl WithoutOperatorMetrics {
    pub fn new() -> Self {
        Self {
            inner: Arc::new(DefaultExecutionEngine::new()),
        }
    }
}

impl Default for WithoutOperatorMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ExecutionEngine for WithoutOperatorMetrics {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        let job = job_id.to_string();
        let stage = self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )?;
        Ok(Arc::new(StageWithoutMetrics {
            stage,
            job,
            stage_id,
        }))
    }
}

/// One query stage of the wrapped engine; everything but its operator metrics passes through.
/// What its operators spilled is logged instead.
struct StageWithoutMetrics {
    stage: Arc<dyn QueryStageExecutor>,
    job: String,
    stage_id: usize,
}

impl fmt::Debug for StageWithoutMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.stage, f)
    }
}

impl fmt::Display for StageWithoutMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.stage, f)
    }
}

#[async_trait::async_trait]
impl QueryStageExecutor for StageWithoutMetrics {
    async fn execute_query_stage(
        &self,
        task_id: usize,
        context: Arc<TaskContext>,
    ) -> Result<Vec<ShuffleWritePartition>> {
        let written = self.stage.execute_query_stage(task_id, context).await?;
        let (files, bytes) =
            self.stage
                .collect_plan_metrics()
                .iter()
                .fold((0, 0), |(files, bytes), metrics| {
                    (
                        files + metrics.spill_count().unwrap_or(0),
                        bytes + metrics.spilled_bytes().unwrap_or(0),
                    )
                });
        if files > 0 {
            log::info!(
                "job {} stage {} task {task_id} spilled {} in {files} file(s): its operators \
                 outgrew their share of the memory pool",
                self.job,
                self.stage_id,
                crate::memory::human_bytes(bytes as u64)
            );
        }
        Ok(written)
    }

    fn collect_plan_metrics(&self) -> Vec<MetricsSet> {
        Vec::new()
    }

    fn collect_runtime_stats_reports(&self) -> Vec<RuntimeStatsReport> {
        self.stage.collect_runtime_stats_reports()
    }

    fn collect_window_state_reports(&self) -> Result<Vec<WindowStateReport>> {
        self.stage.collect_window_state_reports()
    }

    fn collect_column_stats(&self) -> Vec<TaskColumnStats> {
        self.stage.collect_column_stats()
    }
}
