//! Prometheus metrics of `lake-api`, served as text at `/metrics`: HTTP requests by route,
//! method and status with their latency, Flight SQL queries by outcome and those running now,
//! and the layer runs Flight SQL serves. Each process has its own registry (not the global one),
//! so servers started side by side in one process (tests) count apart.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

/// How a Flight SQL query ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryOutcome {
    /// Its result was sent whole.
    Ok,
    /// Refused before it started: every slot stayed busy past `--queue-timeout`.
    Busy,
    /// Cancelled at `--query-timeout`.
    Timeout,
    /// Cut off by `--max-result-rows` or refused by the memory pool (`--query-memory`).
    Refused,
    /// Failed for another reason (the engine's error).
    Error,
    /// Its client hung up before the end.
    Abandoned,
}

impl QueryOutcome {
    fn label(self) -> &'static str {
        match self {
            QueryOutcome::Ok => "ok",
            QueryOutcome::Busy => "busy",
            QueryOutcome::Timeout => "timeout",
            QueryOutcome::Refused => "refused",
            QueryOutcome::Error => "error",
            QueryOutcome::Abandoned => "abandoned",
        }
    }
}

#[derive(Debug, Clone)]
pub struct GatewayMetrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_seconds: HistogramVec,
    flight_queries: IntCounterVec,
    flight_running: IntGauge,
    served_run: IntGaugeVec,
}

impl GatewayMetrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let http_requests = IntCounterVec::new(
            Opts::new(
                "lake_api_http_requests_total",
                "HTTP requests answered, by route pattern, method and status",
            ),
            &["route", "method", "status"],
        )?;
        let http_seconds = HistogramVec::new(
            HistogramOpts::new(
                "lake_api_http_request_duration_seconds",
                "Time to answer an HTTP request, by route pattern",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ]),
            &["route"],
        )?;
        let flight_queries = IntCounterVec::new(
            Opts::new(
                "lake_api_flight_queries_total",
                "Flight SQL queries ended, by outcome (ok, busy, timeout, refused, error, \
                 abandoned)",
            ),
            &["outcome"],
        )?;
        let flight_running = IntGauge::new(
            "lake_api_flight_queries_running",
            "Flight SQL queries holding a slot now",
        )?;
        let served_run = IntGaugeVec::new(
            Opts::new(
                "lake_api_served_run_info",
                "The layer runs Flight SQL serves (value 1), by layer and run id",
            ),
            &["layer", "run_id"],
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_seconds.clone()))?;
        registry.register(Box::new(flight_queries.clone()))?;
        registry.register(Box::new(flight_running.clone()))?;
        registry.register(Box::new(served_run.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_seconds,
            flight_queries,
            flight_running,
            served_run,
        })
    }

    /// One HTTP request answered. `route` is the pattern (`/clients/{id}`), never the path, so
    /// the label's values stay few.
    pub fn observe_http(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.http_seconds
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// A Flight SQL query got a slot.
    pub fn query_started(&self) {
        self.flight_running.inc();
    }

    /// A Flight SQL query that had a slot ended.
    pub fn query_ended(&self, outcome: QueryOutcome) {
        self.flight_running.dec();
        self.query_counted(outcome);
    }

    /// A Flight SQL query ended without a slot (refused as busy).
    pub fn query_counted(&self, outcome: QueryOutcome) {
        self.flight_queries
            .with_label_values(&[outcome.label()])
            .inc();
    }

    /// The runs served now, replacing those set before.
    pub fn set_served(&self, runs: &[(&str, &str)]) {
        self.served_run.reset();
        for (layer, run_id) in runs {
            self.served_run.with_label_values(&[layer, run_id]).set(1);
        }
    }

    /// Every metric in Prometheus's text format (version 0.0.4) and its content type.
    pub fn render(&self) -> Result<(String, String), prometheus::Error> {
        let encoder = TextEncoder::new();
        let mut text = Vec::new();
        encoder.encode(&self.registry.gather(), &mut text)?;
        let text = String::from_utf8(text)
            .map_err(|e| prometheus::Error::Msg(format!("metrics text: {e}")))?;
        Ok((text, encoder.format_type().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_render_as_prometheus_text() {
        let metrics = GatewayMetrics::new().expect("metrics");
        metrics.observe_http("/kpis/globaux", "GET", 200, 0.004);
        metrics.observe_http("/kpis/globaux", "GET", 200, 0.2);
        metrics.query_started();
        metrics.query_ended(QueryOutcome::Timeout);
        metrics.query_counted(QueryOutcome::Busy);
        metrics.set_served(&[("gold", "r1")]);
        metrics.set_served(&[("gold", "r2")]);
        let (text, content_type) = metrics.render().expect("render");
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        for line in [
            "lake_api_http_requests_total{method=\"GET\",route=\"/kpis/globaux\",status=\"200\"} 2",
            "lake_api_http_request_duration_seconds_bucket{route=\"/kpis/globaux\",le=\"0.005\"} 1",
            "lake_api_http_request_duration_seconds_count{route=\"/kpis/globaux\"} 2",
            "lake_api_flight_queries_total{outcome=\"timeout\"} 1",
            "lake_api_flight_queries_total{outcome=\"busy\"} 1",
            "lake_api_flight_queries_running 0",
            "lake_api_served_run_info{layer=\"gold\",run_id=\"r2\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from:\n{text}"
            );
        }
        assert!(!text.contains("run_id=\"r1\""), "{text}");
    }
}
