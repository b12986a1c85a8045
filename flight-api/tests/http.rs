//! Contract tests of the HTTP API on the golden fixtures (expected values worked by hand in
//! core/tests/golden.rs), against the lake store, through the `lake-api` binary. The same
//! contract runs against MongoDB in tests/mongo.rs.

mod common;

use common::contract::{hand_checked_values, purchases_paging};
use common::{Api, get, get_with, golden_lake};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_the_hand_checked_values() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let api = Api::start(&lake, &[]);
    hand_checked_values(&api, &lake, "lake").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purchases_filter_sort_and_page_without_gaps_or_repeats() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let api = Api::start(&lake, &[]);
    purchases_paging(&api).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_a_json_error_naming_the_parameter() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let api = Api::start(&lake, &["--api-key", "s3cret"]);
    let key = [("x-api-key", "s3cret")];

    for (path, parameter) in [
        ("/ventes?grain=annee", "grain"),
        ("/achats?limit=0", "limit"),
        ("/achats?limit=501", "limit"),
        ("/achats?apres=nimportequoi", "apres"),
        ("/achats?debut=2025-02-30", "debut"),
        ("/achats?fin=", "fin"),
        ("/analytics/saisonnalite?dimension=", "dimension"),
        ("/achats?client=abc", "client"),
        ("/kpis/globaux?x=1", "x"),
        ("/ventes?grain=pays&debut=2025-01-01", "debut"),
        ("/ml/churn?score_min=2", "score_min"),
        ("/ml/churn?risque=extreme", "risque"),
        ("/clients/abc", "id"),
    ] {
        let (status, body) = get_with(&api, path, &key).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_parameter", "{path}: {body}");
        assert_eq!(body["error"]["parameter"], parameter, "{path}: {body}");
    }
    // A range that ends before it starts is empty, not an error.
    let (status, body) = get_with(&api, "/achats?debut=2025-05-01&fin=2025-04-01", &key).await;
    assert_eq!(
        (status, body["data"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    // A method the API does not serve: 405 with Allow.
    let response = common::client()
        .post(format!("{}/kpis/globaux", api.base))
        .header("x-api-key", "s3cret")
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(
        response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok()),
        Some("GET")
    );
    let (status, body) = get_with(&api, "/clients/999", &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );
    let (status, body) = get_with(&api, "/nulle/part", &key).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("not_found"))
    );

    // The API key: required for the data, not for /health and /openapi.json.
    let (status, body) = get(&api, "/kpis/globaux").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (status, _) = get_with(&api, "/kpis/globaux", &[("x-api-key", "wrong")]).await;
    assert_eq!(status, 401);
    assert_eq!(get_with(&api, "/kpis/globaux", &key).await.0, 200);
    assert_eq!(get(&api, "/health").await.0, 200);
    let (status, openapi) = get(&api, "/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(openapi["openapi"], "3.0.3");
    assert!(openapi["paths"]["/achats"]["get"]["parameters"].is_array());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_key_can_come_from_a_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = golden_lake(dir.path()).await;
    let key_file = dir.path().join("api-key");
    std::fs::write(&key_file, "depuis-un-fichier\n").expect("key file");
    let api = Api::start(&lake, &["--api-key-file", &key_file.to_string_lossy()]);

    assert_eq!(get(&api, "/kpis/globaux").await.0, 401);
    let wrong = [("x-api-key", "depuis-un-fichie")];
    assert_eq!(get_with(&api, "/kpis/globaux", &wrong).await.0, 401);
    let key = [("x-api-key", "depuis-un-fichier")];
    assert_eq!(get_with(&api, "/kpis/globaux", &key).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_lake_is_unavailable_until_gold_is_published() {
    let dir = tempfile::tempdir().expect("tmp");
    let api = Api::start(&dir.path().join("lake"), &[]);
    let (status, body) = get(&api, "/kpis/globaux").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert_eq!(get(&api, "/health").await.0, 503);

    // Published afterwards: served without restarting the API (the pointer is re-read).
    golden_lake(dir.path()).await;
    let mut last = (0, Value::Null);
    for _ in 0..50 {
        last = get(&api, "/kpis/globaux").await;
        if last.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(last.0, 200, "{}", last.1);
    assert_eq!(last.1["nb_achats"], 12);
}
