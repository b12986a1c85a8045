//! The gateway's limits on Flight SQL queries, driven by a Flight SQL client over loopback
//! against a real `lake-api` on an SF 0.01 lake: a cross join is cancelled at its timeout while
//! the HTTP API keeps answering, a query past the slots is refused, a client that hangs up gives
//! its slot back, a result past its row cap is cut off, and a join past the memory pool is
//! refused; each refusal names the flag to change, and the process keeps serving.

mod common;

use std::time::{Duration, Instant};

use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{Api, generated_lake};
use futures::StreamExt;
use tonic::Code;
use tonic::transport::Channel;

/// Three copies of the facts multiplied: 10^12 rows to filter at SF 0.01, far past any
/// timeout (a bare `COUNT(*)` would be answered from the Parquet statistics at once).
const CROSS_JOIN: &str = "SELECT COUNT(*) FROM gold.fact_achats a \
    CROSS JOIN gold.fact_achats b CROSS JOIN gold.fact_achats c \
    WHERE a.montant < b.montant + c.montant";

/// How long the test waits for what must happen within the limits it sets (a bound, not a
/// measure).
const PATIENCE: Duration = Duration::from_secs(60);

async fn client(api: &Api) -> FlightSqlServiceClient<Channel> {
    let endpoint = api.flight.replacen("grpc://", "http://", 1);
    let channel = Channel::from_shared(endpoint)
        .expect("endpoint")
        .connect()
        .await
        .expect("connect to Flight SQL");
    FlightSqlServiceClient::new(channel)
}

/// Starts `sql`: the stream of its result, or the refusal's text.
async fn start(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> Result<FlightRecordBatchStream, String> {
    let info = client
        .execute(sql.to_string(), None)
        .await
        .map_err(|e| e.to_string())?;
    let ticket = info.endpoint[0].ticket.clone().expect("a ticket");
    client.do_get(ticket).await.map_err(|e| e.to_string())
}

/// Reads a result to its end: its row count, or the status that ended it.
async fn rows_or_status(mut stream: FlightRecordBatchStream) -> Result<usize, (Code, String)> {
    let mut rows = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(batch) => rows += batch.num_rows(),
            Err(FlightError::Tonic(status)) => {
                return Err((status.code(), status.message().to_string()));
            }
            Err(other) => return Err((Code::Unknown, other.to_string())),
        }
    }
    Ok(rows)
}

async fn kpis_answer(api: &Api) -> bool {
    common::get(api, "/kpis/globaux").await.0 == 200
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_join_is_cancelled_at_its_timeout_and_slots_and_rows_are_bounded() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = generated_lake(dir.path(), 0.01).await;
    let api = Api::start(
        &lake,
        &[
            "--query-timeout",
            "4",
            "--max-queries",
            "1",
            "--queue-timeout",
            "1",
            "--max-result-rows",
            "1000",
        ],
    );
    let mut first = client(&api).await;
    let mut second = client(&api).await;

    // The cross join takes the only slot.
    let started = Instant::now();
    let cross_join = start(&mut first, CROSS_JOIN).await.expect("started");
    let running = tokio::spawn(rows_or_status(cross_join));

    // Another query waits a second in line, then is refused naming the flags.
    let refused = match start(&mut second, "SELECT 1").await {
        Err(refused) => refused,
        Ok(stream) => panic!(
            "a second query ran beside the cross join: {:?}; the cross join: {:?}",
            rows_or_status(stream).await,
            running.await
        ),
    };
    assert!(refused.contains("--max-queries"), "{refused}");

    // The HTTP API answers meanwhile.
    let mut answered_while_running = 0;
    while !running.is_finished() && started.elapsed() < PATIENCE {
        assert!(kpis_answer(&api).await, "/kpis/globaux failed");
        answered_while_running += 1;
    }
    assert!(answered_while_running > 0);

    let (code, message) = running
        .await
        .expect("joined")
        .expect_err("the cross join was cancelled");
    assert_eq!(code, Code::DeadlineExceeded, "{message}");
    assert!(message.contains("--query-timeout"), "{message}");

    // The slot came back: a result past 1 000 rows is cut off, one within it is whole.
    let whole_table = start(&mut second, "SELECT * FROM gold.fact_achats")
        .await
        .expect("started");
    let (code, message) = rows_or_status(whole_table)
        .await
        .expect_err("cut off at 1 000 rows");
    assert_eq!(code, Code::ResourceExhausted, "{message}");
    assert!(message.contains("--max-result-rows"), "{message}");
    let limited = start(
        &mut second,
        "SELECT id_achat FROM gold.fact_achats ORDER BY id_achat LIMIT 1000",
    )
    .await
    .expect("started");
    assert_eq!(rows_or_status(limited).await, Ok(1000));

    // A client that hangs up gives its slot back: the next query gets it within its wait.
    let abandoned = start(&mut first, CROSS_JOIN).await.expect("started");
    drop(abandoned);
    drop(first);
    let after = start(&mut second, "SELECT 1")
        .await
        .expect("the slot came back");
    assert_eq!(rows_or_status(after).await, Ok(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_past_the_memory_pool_is_refused_and_the_process_keeps_serving() {
    let dir = tempfile::tempdir().expect("tmp");
    let lake = generated_lake(dir.path(), 0.01).await;
    let api = Api::start(&lake, &["--query-memory", "4MiB"]);
    let mut client = client(&api).await;

    // Every pair of purchases of the same product (millions of rows at SF 0.01) as the build
    // side of a hash join: a build side cannot spill, so it must be refused whatever the timing
    // (a DISTINCT over the pairs, tried first, spills instead and ran past the timeout on a
    // slower machine).
    let pairs = start(
        &mut client,
        "WITH pairs AS (SELECT a.id_client AS acheteur, b.id_client AS voisin \
         FROM gold.fact_achats a JOIN gold.fact_achats b ON a.produit = b.produit) \
         SELECT COUNT(*) FROM pairs p JOIN pairs q ON p.acheteur = q.voisin",
    )
    .await
    .expect("started");
    let (code, message) = rows_or_status(pairs).await.expect_err("refused");
    assert_eq!(code, Code::ResourceExhausted, "{message}");
    assert!(message.contains("--query-memory"), "{message}");

    let count = start(&mut client, "SELECT COUNT(*) FROM gold.fact_achats")
        .await
        .expect("started");
    assert_eq!(rows_or_status(count).await, Ok(1));
    assert!(kpis_answer(&api).await);
}
