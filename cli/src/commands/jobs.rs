//! `lake jobs`: the scheduler's recent jobs, with task placement for the local cluster.

use std::path::Path;

use anyhow::{Context, Result};

use crate::args::{JobsArgs, LakeArgs};
use crate::output::print_batches;
use crate::scheduler_api::SchedulerApi;

/// The scheduler `lake jobs` asks: --scheduler, else the local cluster's, else the default port.
fn jobs_scheduler(lake: &LakeArgs, state_dir: &Path) -> Result<String> {
    if let Some(url) = &lake.scheduler {
        return Ok(url.clone());
    }
    Ok(crate::cluster::ClusterState::load(state_dir)?
        .map(|state| state.scheduler_url)
        .unwrap_or_else(|| "df://127.0.0.1:50050".to_string()))
}

pub(crate) async fn jobs(lake: &LakeArgs, args: &JobsArgs) -> Result<()> {
    use datafusion::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
    use std::sync::Arc;

    let url = jobs_scheduler(lake, &args.state.state_dir)?;
    // Task placement is known for the local cluster, whose scheduler writes event logs there.
    let events_dir = args.state.state_dir.join("events");
    let api = SchedulerApi::new(&url)?;
    let jobs = api.jobs().await?;
    let shown: Vec<_> = jobs.iter().take(args.limit).collect();
    let now = crate::cluster::now_ms();
    let tasks: Vec<_> = shown
        .iter()
        .map(|j| crate::event_log::job_tasks(&events_dir, &j.id))
        .collect();
    let started = |ms: u64| {
        chrono::DateTime::from_timestamp_millis(ms as i64)
            .filter(|_| ms > 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
    };
    let columns: Vec<(&str, ArrayRef)> = vec![
        (
            "job_id",
            Arc::new(StringArray::from_iter_values(shown.iter().map(|j| &j.id))),
        ),
        (
            "name",
            Arc::new(StringArray::from_iter_values(shown.iter().map(|j| &j.name))),
        ),
        (
            "status",
            Arc::new(StringArray::from_iter_values(
                shown.iter().map(|j| &j.status),
            )),
        ),
        (
            "stages",
            Arc::new(StringArray::from_iter_values(
                shown
                    .iter()
                    .map(|j| format!("{}/{}", j.completed_stages, j.num_stages)),
            )),
        ),
        (
            "started_utc",
            Arc::new(StringArray::from_iter(
                shown.iter().map(|j| started(j.start_time_ms)),
            )),
        ),
        (
            "seconds",
            Arc::new(Float64Array::from_iter(
                shown
                    .iter()
                    .map(|j| j.duration_ms(now).map(|ms| ms as f64 / 1000.0)),
            )),
        ),
        (
            "tasks",
            Arc::new(StringArray::from_iter(tasks.iter().map(|t| {
                t.as_ref()
                    .map(|t| crate::event_log::format_counts(&t.per_executor))
            }))),
        ),
        (
            "last_stage_seconds",
            Arc::new(Float64Array::from_iter(tasks.iter().map(|t| {
                t.as_ref()
                    .and_then(|t| t.last_stage_ms)
                    .map(|ms| ms as f64 / 1000.0)
            }))),
        ),
        (
            "detail",
            Arc::new(StringArray::from_iter_values(
                shown.iter().map(|j| &j.detail),
            )),
        ),
    ];
    let batch = RecordBatch::try_from_iter(columns).context("cannot build the job table")?;
    if args.format == crate::args::Format::Table {
        println!(
            "scheduler {url}: {} job(s), showing the {} most recent",
            jobs.len(),
            shown.len()
        );
    }
    print_batches(&[batch], args.format)
}
