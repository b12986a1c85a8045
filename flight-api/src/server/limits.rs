//! What one Flight SQL query may take from the gateway, so that a query written carelessly (a
//! cross join, a self-join on a low-cardinality column) cannot starve the HTTP API and the other
//! clients of the same process:
//!
//! - **memory**: Flight SQL queries run in a pool of their own (`--query-memory`): sorts and
//!   aggregates spill past it, and a query whose operators still cannot fit is refused;
//! - **concurrency**: at most `--max-queries` run at once; the next ones wait in line up to
//!   `--queue-timeout`, then are refused;
//! - **time**: a query still running after `--query-timeout` is cancelled;
//! - **result size**: a result past `--max-result-rows` rows is cut off with an error.
//!
//! Each refusal is a Flight status that names the flag to change (`RESOURCE_EXHAUSTED` for
//! memory, slots and size, `DEADLINE_EXCEEDED` for time). A cancelled or refused query's work
//! stops when its stream is dropped, and its slot is given back.
//!
//! A timeout or a client's hang-up can only act when the query's task yields. DataFusion's
//! operators yield when their scans have used the task's budget, but an operator that makes
//! many batches from data it already holds (a cross join over a buffered side, then a filter
//! and a count) can run for minutes inside one poll. [`interruptible`] puts a cooperative
//! point above every operator, so the task yields every few batches wherever the work is.

use std::time::Duration;

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use futures::{Stream, StreamExt, stream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tonic::Status;

use crate::metrics::{GatewayMetrics, QueryOutcome};

/// The limits of the gateway's queries (flags of `lake-api`, see [`crate::config`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryLimits {
    /// Queries running at once.
    pub max_queries: usize,
    /// How long a query waits for a slot before it is refused.
    pub queue_timeout: Duration,
    /// How long a query may run, from its slot to its last row; `None`: no limit.
    pub query_timeout: Option<Duration>,
    /// Rows a result may have; `None`: no limit.
    pub max_result_rows: Option<u64>,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_queries: 4,
            queue_timeout: Duration::from_secs(30),
            query_timeout: Some(Duration::from_secs(300)),
            max_result_rows: Some(25_000_000),
        }
    }
}

/// Hands out the query slots and runs each query within its limits, counting how each ended.
#[derive(Debug)]
pub struct Admission {
    limits: QueryLimits,
    slots: std::sync::Arc<Semaphore>,
    metrics: Arc<GatewayMetrics>,
}

/// A query's slot, held until its result stream is dropped.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl Admission {
    pub fn new(limits: QueryLimits, metrics: Arc<GatewayMetrics>) -> Self {
        let slots = std::sync::Arc::new(Semaphore::new(limits.max_queries.max(1)));
        Self {
            limits,
            slots,
            metrics,
        }
    }

    /// A slot for one query: at once if one is free, else after waiting in line up to
    /// `--queue-timeout`; refused past that.
    pub async fn admit(&self) -> Result<Slot, Status> {
        let waiting = self.slots.clone().acquire_owned();
        match tokio::time::timeout(self.limits.queue_timeout, waiting).await {
            Ok(Ok(permit)) => {
                self.metrics.query_started();
                Ok(Slot(permit))
            }
            Ok(Err(_closed)) => Err(Status::unavailable("the gateway is shutting down")),
            Err(_waited) => Err(self.busy()),
        }
    }

    fn busy(&self) -> Status {
        self.metrics.query_counted(QueryOutcome::Busy);
        Status::resource_exhausted(format!(
            "{} queries are already running and none finished within {} s: retry later, \
                 or raise --max-queries (LAKE_API_MAX_QUERIES) or --queue-timeout \
                 (LAKE_API_QUEUE_TIMEOUT)",
            self.limits.max_queries,
            self.limits.queue_timeout.as_secs_f64()
        ))
    }

    /// `batches` as the client receives them: cancelled past `--query-timeout`, cut off past
    /// `--max-result-rows`, with refusals of the memory pool naming `--query-memory`. The first
    /// error ends the stream, which drops the query (its work stops) and gives the slot back.
    pub fn bound(
        &self,
        batches: SendableRecordBatchStream,
        slot: Slot,
    ) -> impl Stream<Item = Result<RecordBatch, Status>> + Send + 'static {
        let running = Running {
            batches: Some(batches),
            slot: Some(slot),
            deadline: self.limits.query_timeout.map(|t| (Instant::now() + t, t)),
            max_rows: self.limits.max_result_rows,
            rows: 0,
            metrics: self.metrics.clone(),
        };
        stream::unfold(running, |mut running| async move {
            let item = running.next().await?;
            if let Err(status) = &item {
                running.finish(match status.code() {
                    tonic::Code::DeadlineExceeded => QueryOutcome::Timeout,
                    tonic::Code::ResourceExhausted => QueryOutcome::Refused,
                    _ => QueryOutcome::Error,
                });
            }
            Some((item, running))
        })
    }
}

/// A query's stream and what it has used so far.
struct Running {
    /// `None` once the query ended or was stopped.
    batches: Option<SendableRecordBatchStream>,
    slot: Option<Slot>,
    /// When the query must have ended, and the timeout it came from.
    deadline: Option<(Instant, Duration)>,
    max_rows: Option<u64>,
    rows: u64,
    metrics: Arc<GatewayMetrics>,
}

impl Drop for Running {
    /// A query dropped before its end: its client hung up.
    fn drop(&mut self) {
        self.finish(QueryOutcome::Abandoned);
    }
}

impl Running {
    /// The next batch or error; `None` at the end (or after an error).
    async fn next(&mut self) -> Option<Result<RecordBatch, Status>> {
        let batches = self.batches.as_mut()?;
        let next = match self.deadline {
            None => batches.next().await,
            Some((deadline, timeout)) => {
                match tokio::time::timeout_at(deadline, batches.next()).await {
                    Ok(next) => next,
                    Err(_elapsed) => {
                        return Some(Err(Status::deadline_exceeded(format!(
                            "the query ran past --query-timeout (LAKE_API_QUERY_TIMEOUT, {} s) \
                             and was cancelled: narrow it, or raise the timeout",
                            timeout.as_secs_f64()
                        ))));
                    }
                }
            }
        };
        let Some(next) = next else {
            self.finish(QueryOutcome::Ok);
            return None;
        };
        Some(next.map_err(query_status).and_then(|batch| {
            self.rows += batch.num_rows() as u64;
            match self.max_rows {
                Some(max) if self.rows > max => Err(Status::resource_exhausted(format!(
                    "the result has more than --max-result-rows (LAKE_API_MAX_RESULT_ROWS) = \
                     {max} rows: add a LIMIT or a filter, or raise it"
                ))),
                _ => Ok(batch),
            }
        }))
    }

    /// Drops the query (its operators stop), gives its slot back and counts how it ended; once.
    fn finish(&mut self, outcome: QueryOutcome) {
        self.batches = None;
        if self.slot.take().is_some() {
            self.metrics.query_ended(outcome);
        }
    }
}

/// `plan` with a cooperative point ([`CooperativeExec`]) above each operator that has inputs:
/// every batch it hands on uses a unit of the task's budget, so the task yields (and a timeout
/// or a hang-up is noticed) within a few batches, however the work is spread.
pub fn interruptible(
    plan: Arc<dyn ExecutionPlan>,
) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
    plan.transform_up(|node| {
        let is_cooperative = node.is::<CooperativeExec>();
        if node.children().is_empty() || is_cooperative {
            return Ok(Transformed::no(node));
        }
        Ok(Transformed::yes(
            Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>
        ))
    })
    .map(|transformed| transformed.data)
}

/// The status of a query that failed while running: a refusal of the memory pool names
/// `--query-memory`, any other failure is the engine's own message.
pub fn query_status(error: DataFusionError) -> Status {
    let text = error.to_string();
    match lake_core::error::memory_refusal(&text) {
        Some(reason) => Status::resource_exhausted(format!(
            "the query needed more memory than the gateway's pool allows ({reason}): narrow it, \
             or raise --query-memory (LAKE_API_QUERY_MEMORY)"
        )),
        None => Status::internal(text),
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Int64Array;
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
    use futures::TryStreamExt;

    use super::*;

    fn admission(limits: QueryLimits) -> Admission {
        Admission::new(limits, Arc::new(GatewayMetrics::new().expect("metrics")))
    }

    fn batch(rows: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(Int64Array::from_iter_values(0..rows))],
        )
        .expect("batch")
    }

    fn batches(
        items: Vec<Result<RecordBatch, DataFusionError>>,
        then_hang: bool,
    ) -> SendableRecordBatchStream {
        let schema = batch(0).schema();
        let items = stream::iter(items);
        let rest = stream::once(async move {
            if then_hang {
                futures::future::pending::<()>().await;
            }
            Ok(batch(0))
        });
        Box::pin(RecordBatchStreamAdapter::new(schema, items.chain(rest)))
    }

    fn limits() -> QueryLimits {
        QueryLimits {
            max_queries: 1,
            queue_timeout: Duration::from_millis(10),
            query_timeout: None,
            max_result_rows: None,
        }
    }

    #[tokio::test]
    async fn a_result_past_the_row_cap_ends_with_an_error_naming_the_flag() {
        let admission = admission(QueryLimits {
            max_result_rows: Some(5),
            ..limits()
        });
        let slot = admission.admit().await.expect("slot");
        let stream = admission.bound(batches(vec![Ok(batch(3)), Ok(batch(3))], false), slot);
        let items: Vec<_> = stream.collect().await;
        assert_eq!(
            items.len(),
            2,
            "the first batch, then the error, then nothing"
        );
        assert_eq!(items[0].as_ref().map(|b| b.num_rows()).ok(), Some(3));
        let error = items[1].as_ref().expect_err("cut off");
        assert_eq!(error.code(), tonic::Code::ResourceExhausted);
        assert!(error.message().contains("--max-result-rows"), "{error}");
        // The slot came back with the error.
        admission.admit().await.expect("slot given back");
    }

    #[tokio::test]
    async fn a_query_past_its_timeout_is_cancelled_and_gives_its_slot_back() {
        // The stream hangs after its first batch: only the timeout can end it.
        let admission = admission(QueryLimits {
            query_timeout: Some(Duration::from_millis(200)),
            ..limits()
        });
        let slot = admission.admit().await.expect("slot");
        let stream = admission.bound(batches(vec![Ok(batch(1))], true), slot);
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 2);
        let error = items[1].as_ref().expect_err("cancelled");
        assert_eq!(error.code(), tonic::Code::DeadlineExceeded);
        assert!(error.message().contains("--query-timeout"), "{error}");
        admission.admit().await.expect("slot given back");
    }

    #[tokio::test]
    async fn a_query_waits_for_a_slot_then_is_refused_naming_the_flags() {
        let admission = admission(limits());
        let held = admission.admit().await.expect("slot");
        let refused = admission.admit().await.err().expect("no slot left");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(refused.message().contains("--max-queries"), "{refused}");
        assert!(refused.message().contains("--queue-timeout"), "{refused}");
        drop(held);
        let slot = admission.admit().await.expect("a freed slot");
        // A finished query gives its slot back too.
        let rows: Vec<RecordBatch> = admission
            .bound(batches(vec![Ok(batch(2))], false), slot)
            .try_collect()
            .await
            .expect("rows");
        assert_eq!(rows.iter().map(|b| b.num_rows()).sum::<usize>(), 2);
        admission.admit().await.expect("slot given back");
    }

    #[tokio::test]
    async fn every_operator_with_inputs_gets_a_cooperative_point_above_it() {
        let ctx = datafusion::prelude::SessionContext::new();
        let plan = ctx
            .sql("SELECT COUNT(*) FROM (VALUES (1), (2)) a(x) CROSS JOIN (VALUES (3)) b(y) WHERE x < y")
            .await
            .expect("plan")
            .create_physical_plan()
            .await
            .expect("physical plan");
        let wrapped = interruptible(plan.clone()).expect("wrapped");
        let mut operators = 0;
        let mut unguarded = Vec::new();
        wrapped
            .apply(|node| {
                let guarded = node.is::<CooperativeExec>();
                for child in node.children() {
                    let child_guarded = child.is::<CooperativeExec>();
                    if !guarded && !child_guarded && !child.children().is_empty() {
                        unguarded.push(child.name().to_string());
                    }
                }
                if !guarded {
                    operators += 1;
                }
                Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
            })
            .expect("walk");
        assert!(
            unguarded.is_empty(),
            "operators read without a cooperative point: {unguarded:?}"
        );
        assert!(wrapped.is::<CooperativeExec>(), "the root");
        assert!(operators >= 3, "the plan lost operators: {operators}");
        // The same rows.
        let count = |plan| async {
            datafusion::physical_plan::collect(plan, ctx.task_ctx())
                .await
                .expect("rows")
        };
        assert_eq!(
            datafusion::arrow::util::pretty::pretty_format_batches(&count(wrapped).await)
                .expect("text")
                .to_string(),
            datafusion::arrow::util::pretty::pretty_format_batches(&count(plan).await)
                .expect("text")
                .to_string()
        );
    }

    #[test]
    fn a_refusal_of_the_pool_names_the_gateway_flag_and_other_errors_pass() {
        let refused = query_status(DataFusionError::ResourcesExhausted(
            "Failed to allocate additional 1.0 MB for HashJoinInput with 0.0 B already \
             allocated for this reservation - 0.5 MB remain available for the total pool"
                .into(),
        ));
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert!(refused.message().contains("--query-memory"), "{refused}");
        assert!(refused.message().contains("HashJoinInput"), "{refused}");
        let other = query_status(DataFusionError::Execution("division by zero".into()));
        assert_eq!(other.code(), tonic::Code::Internal);
        assert!(other.message().contains("division by zero"));
    }
}
