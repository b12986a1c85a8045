//! The scheduler's per-job event logs (`--event-log-dir`, one JSON line per event): which
//! executor ran each task. `lake cluster up` turns them on, so `lake jobs` can show how a job's
//! tasks were shared.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

#[derive(Deserialize)]
struct Record {
    ev: String,
    data: serde_json::Value,
}

/// What a job's event log tells about where and when its tasks ran.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JobTasks {
    /// Successful tasks per executor id.
    pub per_executor: BTreeMap<String, usize>,
    /// Wall time of the job's last stage (highest stage id), first task start to last task end.
    /// For a table model this is the single-task write stage: shuffle read, Parquet encoding
    /// and upload.
    pub last_stage_ms: Option<u64>,
}

/// Reads a job's event log, or `None` when it is not there (a remote scheduler, or a job that
/// has not started).
pub fn job_tasks(events_dir: &Path, job_id: &str) -> Option<JobTasks> {
    let text = ["eventlog", "eventlog.running"]
        .iter()
        .find_map(|ext| std::fs::read_to_string(events_dir.join(format!("{job_id}.{ext}"))).ok())?;
    let mut tasks = JobTasks::default();
    // stage id → (first start, last end) of its successful tasks
    let mut stages: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Record>(line) else {
            continue; // a line being written
        };
        let data = &record.data;
        let executor = data.get("executor_id").and_then(|v| v.as_str());
        let successful = data.get("status").and_then(|v| v.as_str()) == Some("Successful");
        if let ("TaskEnd", Some(executor), true) = (record.ev.as_str(), executor, successful) {
            *tasks.per_executor.entry(executor.to_string()).or_insert(0) += 1;
            let number = |key: &str| data.get(key).and_then(|v| v.as_u64());
            if let (Some(stage), Some(start), Some(end)) = (
                number("stage_id"),
                number("start_exec_time"),
                number("end_exec_time"),
            ) {
                let span = stages.entry(stage).or_insert((start, end));
                span.0 = span.0.min(start);
                span.1 = span.1.max(end);
            }
        }
    }
    tasks.last_stage_ms = stages
        .last_key_value()
        .map(|(_, (start, end))| end.saturating_sub(*start));
    Some(tasks)
}

/// `executor-1:3 executor-2:4`.
pub fn format_counts(counts: &BTreeMap<String, usize>) -> String {
    counts
        .iter()
        .map(|(executor, n)| format!("{executor}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_successful_tasks_per_executor() {
        let dir = tempfile::tempdir().expect("tmp");
        let lines = [
            r#"{"ev":"JobStart","version":1,"data":{"job_id":"j"}}"#,
            r#"{"ev":"TaskEnd","version":1,"data":{"stage_id":1,"executor_id":"executor-2","status":"Successful","start_exec_time":100,"end_exec_time":180}}"#,
            r#"{"ev":"TaskEnd","version":1,"data":{"stage_id":1,"executor_id":"executor-1","status":"Successful","start_exec_time":90,"end_exec_time":150}}"#,
            r#"{"ev":"TaskEnd","version":1,"data":{"stage_id":2,"executor_id":"executor-2","status":"Successful","start_exec_time":200,"end_exec_time":230}}"#,
            r#"{"ev":"TaskEnd","version":1,"data":{"stage_id":2,"executor_id":"executor-1","status":{"Failed":{}},"start_exec_time":190,"end_exec_time":500}}"#,
            r#"{"ev":"TaskEnd","version":1,"da"#,
        ];
        std::fs::write(dir.path().join("j.eventlog"), lines.join("\n")).expect("write");
        let tasks = job_tasks(dir.path(), "j").expect("log found");
        assert_eq!(
            format_counts(&tasks.per_executor),
            "executor-1:1 executor-2:2"
        );
        assert_eq!(
            tasks.last_stage_ms,
            Some(30),
            "the failed attempt does not count"
        );
        assert!(job_tasks(dir.path(), "other").is_none());
    }
}
