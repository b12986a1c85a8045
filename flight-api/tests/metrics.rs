//! `/metrics` on `lake-api`, scraped as Prometheus does, over the golden lake: the text parses
//! line by line as Prometheus's exposition format, and the counters move by exactly the
//! requests and Flight SQL queries the test makes (two answered, one cut off by the row cap);
//! the served Gold run is the one the lake's pointer names.

mod common;

use std::collections::HashMap;

use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{Api, golden_lake};
use futures::TryStreamExt;
use tonic::transport::Channel;

/// A metric or label name: `[a-zA-Z_:][a-zA-Z0-9_:]*` (labels: no `:`).
fn is_name(text: &str, colon: bool) -> bool {
    let mut chars = text.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colon && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
}

/// Every sample of a scrape, `series` (name and labels as written) → value; panics on any line
/// that is not a comment, a blank or a well-formed sample.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut samples = HashMap::new();
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut words = rest.splitn(3, ' ');
            let kind = words.next().unwrap_or_default();
            let name = words.next().unwrap_or_default();
            assert!(
                matches!(kind, "HELP" | "TYPE") && is_name(name, true),
                "bad comment line {line:?}"
            );
            if kind == "TYPE" {
                let kinds = ["counter", "gauge", "histogram", "summary", "untyped"];
                assert!(
                    kinds.contains(&words.next().unwrap_or_default()),
                    "bad type in {line:?}"
                );
            }
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line:?}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse()
                .unwrap_or_else(|e| panic!("bad value in {line:?}: {e}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, None),
            Some((name, labels)) => (
                name,
                Some(
                    labels
                        .strip_suffix('}')
                        .unwrap_or_else(|| panic!("unclosed labels in {line:?}")),
                ),
            ),
        };
        assert!(is_name(name, true), "bad metric name in {line:?}");
        for label in labels.into_iter().flat_map(|l| l.split("\",")) {
            let (key, quoted) = label
                .split_once("=\"")
                .unwrap_or_else(|| panic!("bad label in {line:?}"));
            assert!(is_name(key, false), "bad label name in {line:?}");
            assert!(!quoted.trim_end_matches('"').contains('"'), "{line:?}");
        }
        assert!(
            samples.insert(series.to_string(), value).is_none(),
            "{series} twice"
        );
    }
    samples
}

async fn scrape(api: &Api) -> HashMap<String, f64> {
    let response = common::client()
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let body = response.bytes().await.expect("body");
    samples(std::str::from_utf8(&body).expect("UTF-8"))
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

async fn flight_rows(api: &Api, sql: &str) -> Result<usize, tonic::Status> {
    let channel = Channel::from_shared(api.flight.replacen("grpc://", "http://", 1))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = FlightSqlServiceClient::new(channel);
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let batches: Vec<_> = client
        .do_get(ticket)
        .await
        .map_err(|e| tonic::Status::internal(e.to_string()))?
        .try_collect()
        .await
        .map_err(|e| tonic::Status::internal(e.to_string()))?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_move_with_requests_and_queries() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    // 12 purchases in the golden Gold: a row cap of 5 cuts `SELECT *` off.
    let api = Api::start(
        &lake,
        &["--max-result-rows", "5", "--api-key", "cle-secrete"],
    );

    let before = scrape(&api).await;
    let kpis =
        "lake_api_http_requests_total{method=\"GET\",route=\"/kpis/globaux\",status=\"200\"}";
    let denied =
        "lake_api_http_requests_total{method=\"GET\",route=\"/kpis/globaux\",status=\"401\"}";
    let unknown = "lake_api_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}";
    let ok = "lake_api_flight_queries_total{outcome=\"ok\"}";
    let refused = "lake_api_flight_queries_total{outcome=\"refused\"}";

    for _ in 0..2 {
        let (status, _) =
            common::get_with(&api, "/kpis/globaux", &[("x-api-key", "cle-secrete")]).await;
        assert_eq!(status, 200);
    }
    assert_eq!(common::get(&api, "/kpis/globaux").await.0, 401);
    assert_eq!(
        common::get_with(&api, "/pas-ici", &[("x-api-key", "cle-secrete")])
            .await
            .0,
        404
    );
    assert_eq!(
        flight_rows(&api, "SELECT COUNT(*) FROM gold.fact_achats")
            .await
            .ok(),
        Some(1)
    );
    let cut = flight_rows(&api, "SELECT * FROM gold.fact_achats").await;
    assert!(cut.is_err(), "the row cap let 12 rows through");

    let after = scrape(&api).await;
    assert_eq!(value(&after, kpis) - value(&before, kpis), 2.0);
    assert_eq!(value(&after, denied) - value(&before, denied), 1.0);
    assert_eq!(value(&after, unknown) - value(&before, unknown), 1.0);
    assert_eq!(value(&after, ok) - value(&before, ok), 1.0);
    assert_eq!(value(&after, refused) - value(&before, refused), 1.0);
    assert_eq!(value(&after, "lake_api_flight_queries_running"), 0.0);
    let kpis_count = "lake_api_http_request_duration_seconds_count{route=\"/kpis/globaux\"}";
    assert_eq!(value(&after, kpis_count) - value(&before, kpis_count), 3.0);

    let pointer: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lake.join("gold/_current.json")).expect("gold pointer"),
    )
    .expect("json");
    let run = pointer["run_id"].as_str().expect("run id");
    let served = format!("lake_api_served_run_info{{layer=\"gold\",run_id=\"{run}\"}}");
    assert_eq!(value(&after, &served), 1.0, "{after:?}");
}
