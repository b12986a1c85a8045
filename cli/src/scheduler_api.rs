//! A small client of the cluster's HTTP endpoints: the Ballista scheduler's REST API (served on
//! its gRPC port: registered executors, jobs, cancellation) and each executor's `/healthz`, for
//! `lake cluster status`, `lake jobs` and the job timeout.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// An executor as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executor {
    pub id: String,
    pub host: String,
    pub port: u64,
    pub vcores: u64,
    /// Time of the last heartbeat, in milliseconds since the Unix epoch.
    pub last_seen_ms: Option<u64>,
}

/// A job as listed by the scheduler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub name: String,
    /// `Queued`, `Running`, `Completed`, `Failed`.
    pub status: String,
    /// The scheduler's detail: elapsed time, or the error of a failed job.
    pub detail: String,
    pub num_stages: u64,
    pub completed_stages: u64,
    /// Milliseconds since the Unix epoch (0: not started).
    pub start_time_ms: u64,
    /// Milliseconds since the Unix epoch (0: still running).
    pub end_time_ms: u64,
}

impl Job {
    /// Wall time of the job, up to now when it still runs.
    pub fn duration_ms(&self, now_ms: u64) -> Option<u64> {
        match (self.start_time_ms, self.end_time_ms) {
            (0, _) => None,
            (start, 0) => Some(now_ms.saturating_sub(start)),
            (start, end) => Some(end.saturating_sub(start)),
        }
    }
}

/// The REST API of one scheduler.
pub struct SchedulerApi {
    base: String,
    client: reqwest::Client,
}

impl SchedulerApi {
    /// `df://host:port` (or `host:port`) → `http://host:port/api`.
    pub fn new(scheduler_url: &str) -> Result<Self> {
        let host_port = scheduler_url
            .strip_prefix("df://")
            .unwrap_or(scheduler_url)
            .trim_end_matches('/');
        if !host_port.contains(':') {
            bail!("scheduler {scheduler_url:?}: expected df://host:port");
        }
        Ok(Self {
            base: format!("http://{host_port}/api"),
            client: http_client(Duration::from_secs(10))?,
        })
    }

    /// Asks the scheduler to cancel a queued or running job.
    pub async fn cancel(&self, job_id: &str) -> Result<()> {
        let url = format!("{}/job/{job_id}", self.base);
        send_ok(self.client.patch(&url), &url).await.map(|_| ())
    }

    /// Cancels every queued or running job of that name; returns them as they were just before
    /// (with the stages they had completed).
    pub async fn cancel_named(&self, name: &str) -> Result<Vec<Job>> {
        let mut cancelled = Vec::new();
        for job in self.jobs().await? {
            if job.name == name && (job.status == "Running" || job.status == "Queued") {
                self.cancel(&job.id).await?;
                cancelled.push(job);
            }
        }
        Ok(cancelled)
    }

    async fn get(&self, path: &str) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let response = send_ok(self.client.get(&url), &url)
            .await
            .with_context(|| {
                format!("cannot use the scheduler's REST API at {url}: is the scheduler running?")
            })?;
        let body = response
            .text()
            .await
            .with_context(|| format!("cannot read the answer of {url}"))?;
        serde_json::from_str(&body).with_context(|| format!("{url} answered invalid JSON"))
    }

    pub async fn executors(&self) -> Result<Vec<Executor>> {
        let value = self.get("/executors").await?;
        let list = value
            .as_array()
            .context("/api/executors: expected a JSON array")?;
        Ok(list.iter().map(executor_from_json).collect())
    }

    /// Every job the scheduler still knows, most recent first.
    pub async fn jobs(&self) -> Result<Vec<Job>> {
        let value = self.get("/jobs").await?;
        let list = value
            .as_array()
            .context("/api/jobs: expected a JSON array")?;
        let mut jobs: Vec<Job> = list.iter().map(job_from_json).collect();
        jobs.sort_by(|a, b| {
            b.start_time_ms
                .cmp(&a.start_time_ms)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(jobs)
    }
}

/// An executor's own health endpoint (`--bind-health-port`).
pub async fn executor_healthz(host: &str, port: u16) -> Result<()> {
    let url = format!("http://{host}:{port}/healthz");
    let client = http_client(Duration::from_secs(2))?;
    send_ok(client.get(&url), &url).await.map(|_| ())
}

/// An HTTP client that gives up on a silent server: 3 s to connect, `timeout` in all.
fn http_client(timeout: Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3).min(timeout))
        .timeout(timeout)
        .build()
        .context("cannot build an HTTP client")
}

/// Sends a request; fails, naming the URL, when it cannot be sent or the answer is not a success.
async fn send_ok(request: reqwest::RequestBuilder, url: &str) -> Result<reqwest::Response> {
    let response = request
        .send()
        .await
        .with_context(|| format!("{url} does not answer"))?;
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        let body = response.text().await.unwrap_or_default();
        bail!("{url} answered {status}: {body}")
    }
}

fn text(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn number(value: &Value, key: &str) -> u64 {
    value.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn executor_from_json(value: &Value) -> Executor {
    Executor {
        id: text(value, "id"),
        host: text(value, "host"),
        port: number(value, "port"),
        vcores: value
            .get("specification")
            .map(|s| number(s, "vcores"))
            .unwrap_or(0),
        last_seen_ms: value.get("last_seen").and_then(Value::as_u64),
    }
}

fn job_from_json(value: &Value) -> Job {
    Job {
        id: text(value, "job_id"),
        name: text(value, "job_name"),
        status: text(value, "status"),
        detail: text(value, "job_status"),
        num_stages: number(value, "num_stages"),
        completed_stages: number(value, "completed_stages"),
        start_time_ms: number(value, "start_time"),
        end_time_ms: number(value, "end_time"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_schedulers_job_and_executor_documents() {
        let job = job_from_json(&serde_json::json!({
            "job_id": "abc", "job_name": "lake silver.clients", "job_status": "Completed in 1.2 s",
            "status": "Completed", "num_stages": 3, "completed_stages": 3,
            "percent_complete": 100, "start_time": 1_000, "end_time": 2_200
        }));
        assert_eq!(job.name, "lake silver.clients");
        assert_eq!(job.duration_ms(9_999), Some(1_200));
        let running = Job {
            end_time_ms: 0,
            ..job.clone()
        };
        assert_eq!(running.duration_ms(1_500), Some(500));

        let executor = executor_from_json(&serde_json::json!({
            "id": "e1", "host": "127.0.0.1", "port": 50051, "last_seen": 12,
            "specification": {"vcores": 2}, "metrics": [], "os_info": {}
        }));
        assert_eq!(executor.vcores, 2);
        assert_eq!(executor.last_seen_ms, Some(12));
    }

    #[test]
    fn scheduler_urls_need_a_port() {
        assert!(SchedulerApi::new("df://localhost").is_err());
        assert_eq!(
            SchedulerApi::new("df://127.0.0.1:50050")
                .map(|api| api.base)
                .ok(),
            Some("http://127.0.0.1:50050/api".to_string())
        );
    }
}
