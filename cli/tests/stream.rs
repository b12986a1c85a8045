//! `lake stream` against a real Kafka broker (KRaft) and FerretDB as MongoDB, both started by the
//! test on free loopback ports. Expected counts come from the producer's own log of what it sent;
//! expected alerts from the scenarios it was told to inject.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{lake_command, ok_with, wait_for};
use futures::TryStreamExt;
use lake_testkit::{FerretDb, Kafka};
use mongodb::bson::{Document, doc};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// Start of the simulated streams: 2026-01-01T00:00:00Z.
const T0_MS: i64 = 1_767_225_600_000;
const WINDOW_MS: i64 = 10_000;

/// (window start, type, pays).
type Key = (i64, String, String);

struct Servers {
    kafka: Kafka,
    mongo: FerretDb,
    dir: tempfile::TempDir,
}

impl Servers {
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("tmp");
        Self {
            kafka: Kafka::start(dir.path()),
            mongo: FerretDb::start(dir.path()),
            dir,
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    async fn db(&self) -> mongodb::Database {
        mongodb::Client::with_uri_str(self.mongo.url())
            .await
            .expect("mongodb client")
            .database("lake")
    }
}

/// The environment of `lake stream …` on this broker, MongoDB and topic.
fn stream_env<'a>(brokers: &'a str, mongo: &'a str, topic: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("LAKE_KAFKA_BROKERS", brokers),
        ("LAKE_KAFKA_TOPIC", topic),
        ("LAKE_MONGO_URL", mongo),
    ]
}

/// Counts per (window, type, pays) of the events the producer logged.
fn logged_counts(log: &Path) -> BTreeMap<Key, u64> {
    let text = std::fs::read_to_string(log).expect("producer log");
    let mut counts = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let time: i64 = fields[1].parse().expect("event time");
        let window = time.div_euclid(WINDOW_MS) * WINDOW_MS;
        *counts
            .entry((window, fields[2].to_string(), fields[3].to_string()))
            .or_default() += 1;
    }
    counts
}

async fn documents(db: &mongodb::Database, collection: &str, topic: &str) -> Vec<Document> {
    db.collection::<Document>(collection)
        .find(doc! { "topic": topic })
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("documents")
}

fn key_of(d: &Document) -> Key {
    (
        d.get_i64("window_start_ms").expect("window"),
        d.get_str("type").expect("type").to_string(),
        d.get_str("pays").expect("pays").to_string(),
    )
}

/// What the processor wrote: events per key in complete windows, and late events per key.
async fn written_counts(
    db: &mongodb::Database,
    topic: &str,
) -> (BTreeMap<Key, u64>, BTreeMap<Key, u64>) {
    let mut windows = BTreeMap::new();
    for d in documents(db, "stream_fenetres", topic).await {
        let nb = d.get_i64("nb").expect("nb") as u64;
        assert!(windows.insert(key_of(&d), nb).is_none(), "twice: {d}");
    }
    let mut late = BTreeMap::new();
    for d in documents(db, "stream_retards", topic).await {
        *late.entry(key_of(&d)).or_default() += 1;
    }
    (windows, late)
}

/// Every logged event is in its window or counted late, once.
async fn assert_counts_match(db: &mongodb::Database, topic: &str, log: &Path) {
    let truth = logged_counts(log);
    let (windows, late) = written_counts(db, topic).await;
    let keys: BTreeSet<&Key> = truth
        .keys()
        .chain(windows.keys())
        .chain(late.keys())
        .collect();
    let mut mismatches = Vec::new();
    for key in keys {
        let expected = truth.get(key).copied().unwrap_or(0);
        let (counted, late) = (
            windows.get(key).copied().unwrap_or(0),
            late.get(key).copied().unwrap_or(0),
        );
        if counted + late != expected {
            mismatches.push(format!("{key:?}: {counted} + {late} late, sent {expected}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} keys differ, first: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    let sent: u64 = truth.values().sum();
    assert!(sent > 0);
}

fn produce(servers: &Servers, env: &[(&str, &str)], extra: &[&str]) {
    let mut args = vec![
        "stream",
        "produce",
        "--clock",
        "simulated",
        "--start",
        "2026-01-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    ok_with(servers.path(), &args, env);
}

/// Sets up `env`'s topic (4 partitions) and sends `seconds` of a steady stream (500 events/s),
/// logged to `log`.
fn steady_stream(servers: &Servers, env: &[(&str, &str)], seconds: &str, log: &Path) {
    ok_with(
        servers.path(),
        &["stream", "setup", "--topic-partitions", "4"],
        env,
    );
    let log = log.to_str().expect("utf-8");
    produce(
        servers,
        env,
        &["--duration", seconds, "--rate", "500", "--log", log],
    );
}

/// `lake stream process` of consumer group `group`, closing idle partitions' windows after 2 s,
/// with `extra` options; not started yet.
fn processor_command(
    servers: &Servers,
    env: &[(&str, &str)],
    group: &str,
    extra: &[&str],
) -> Command {
    let mut args = vec!["stream", "process", "--group", group, "--idle-close", "2"];
    args.extend_from_slice(extra);
    lake_command(servers.path(), &args, env)
}

/// A processor that stops 3 s after the last event.
fn processor(servers: &Servers, env: &[(&str, &str)], group: &str) -> Child {
    processor_command(servers, env, group, &["--stop-when-idle", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lake stream process starts")
}

/// A processor run until dropped, serving its metrics on a free port.
struct MetricsProcessor {
    child: Child,
    address: String,
}

impl MetricsProcessor {
    fn start(servers: &Servers, env: &[(&str, &str)], group: &str) -> Self {
        let mut child = processor_command(servers, env, group, &["--metrics-bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lake stream process starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the processor printed its metrics address before ending")
                .expect("stderr");
            if let Some(url) = line.strip_prefix("metrics: http://") {
                break url.trim_end_matches("/metrics").to_string();
            }
        };
        // Keep draining what the processor prints, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, address }
    }

    fn assert_running(&mut self, kafka: &Kafka) {
        let status = self.child.try_wait().expect("processor status");
        assert!(
            status.is_none(),
            "the processor ended ({status:?}); Kafka log:\n{}",
            std::fs::read_to_string(kafka.log_path()).unwrap_or_default()
        );
    }

    /// `/metrics` as (name with labels, value); empty if it could not be read.
    fn scrape(&self) -> BTreeMap<String, f64> {
        let Ok(mut stream) = TcpStream::connect(&self.address) else {
            return BTreeMap::new();
        };
        let request = format!("GET /metrics HTTP/1.0\r\nHost: {}\r\n\r\n", self.address);
        let mut response = String::new();
        if stream.write_all(request.as_bytes()).is_err()
            || stream.read_to_string(&mut response).is_err()
        {
            return BTreeMap::new();
        }
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
        assert!(
            head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
            "{head}"
        );
        body.lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let (name, value) = line.rsplit_once(' ').expect("name value");
                (name.to_string(), value.parse().expect("a number"))
            })
            .collect()
    }
}

impl Drop for MetricsProcessor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for a processor to finish and returns its standard output (fails with its output).
fn finished(child: Child, kafka: &Kafka) -> String {
    let out = child.wait_with_output().expect("processor output");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "processor failed:\n{stdout}\n{}\nKafka log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(kafka.log_path()).unwrap_or_default()
    );
    stdout
}

/// `lake-api` (built next to `lake`) over `mongo`, on a free port; killed when dropped.
struct ApiProcess(lake_testkit::ApiProcess);

impl ApiProcess {
    fn start(dir: &Path, mongo: &str) -> Self {
        let binary = Path::new(env!("CARGO_BIN_EXE_lake")).with_file_name("lake-api");
        Self(lake_testkit::ApiProcess::start(
            &binary,
            Some(dir),
            &[
                "--lake",
                "lake",
                "--bind",
                "127.0.0.1:0",
                "--flight-bind",
                "off",
                "--mongo-url",
                mongo,
            ],
        ))
    }

    async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let response = reqwest::get(format!("{}{path}", self.0.base))
            .await
            .expect("GET");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).expect("JSON"))
    }
}

/// Events the processor reported reading.
fn events_read(stdout: &str) -> u64 {
    stdout
        .lines()
        .last()
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no report in {stdout:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_injected_anomaly_is_alerted_in_time_and_every_window_matches_the_producers_log() {
    let servers = Servers::start();
    let (brokers, url) = (servers.kafka.brokers(), servers.mongo.url());
    let env = stream_env(&brokers, &url, "spike");
    ok_with(
        servers.path(),
        &["stream", "setup", "--topic-partitions", "4"],
        &env,
    );
    let log = servers.path().join("events.csv");
    let truth = servers.path().join("injections.json");
    // Ten minutes of event time, steady but for three anomalies of 20 s, and 1 % of events sent
    // up to 20 s late (lateness allowed: 5 s).
    produce(
        &servers,
        &env,
        &[
            "--duration",
            "600",
            "--rate",
            "400",
            "--inject",
            "abandon-spike:France:300:20",
            "--inject",
            "traffic-drop:400:20",
            "--inject",
            "price-anomaly:France:500:20",
            "--late-fraction",
            "0.01",
            "--late-max",
            "20",
            "--log",
            log.to_str().expect("utf-8"),
            "--ground-truth",
            truth.to_str().expect("utf-8"),
        ],
    );
    let stdout = finished(processor(&servers, &env, "g1"), &servers.kafka);
    let db = servers.db().await;
    assert_counts_match(&db, "spike", &log).await;
    let (_, late) = written_counts(&db, "spike").await;
    assert!(
        !late.is_empty(),
        "some events were sent after their window closed: {stdout}"
    );

    // The ground truth the producer wrote, and what each scenario must raise.
    let injected: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&truth).expect("truth")).expect("json");
    let bounds = |i: &serde_json::Value| {
        let start = i["start_ms"].as_i64().expect("start");
        (start, i["end_ms"].as_i64().expect("end"))
    };
    assert_eq!(
        injected.iter().map(bounds).collect::<Vec<_>>(),
        [300, 400, 500].map(|s| (T0_MS + s * 1000, T0_MS + (s + 20) * 1000))
    );
    let alerts = documents(&db, "stream_alertes", "spike").await;
    let france = |d: &Document| d.get_str("pays") == Ok("France");
    for injection in &injected {
        let (start, _) = bounds(injection);
        let scenario = injection["scenario"].as_str().expect("scenario");
        let raised = |d: &Document| match scenario {
            "abandon-spike" => {
                france(d)
                    && (d.get_str("rule") == Ok("part_abandon")
                        || d.get_str("type") == Ok("panier_abandonne"))
            }
            "traffic-drop" => {
                d.get_str("rule") == Ok("volume") && d.get_f64("z").is_ok_and(|z| z < 0.0)
            }
            _ => france(d) && d.get_str("rule") == Ok("panier_moyen"),
        };
        let first = alerts
            .iter()
            .filter(|d| raised(d))
            .filter_map(|d| d.get_i64("window_start_ms").ok())
            .filter(|w| *w >= start)
            .min()
            .unwrap_or_else(|| panic!("{scenario} was not alerted: {alerts:?}"));
        assert!(
            first < start + 2 * WINDOW_MS,
            "{scenario} alerted at {first}, injected from {start}"
        );
    }
    // Nothing is alerted outside the injected windows: the rest of the stream is steady.
    let outside: Vec<&Document> = alerts
        .iter()
        .filter(|d| {
            let window = d.get_i64("window_start_ms").unwrap_or(0);
            !injected
                .iter()
                .map(bounds)
                .any(|(start, end)| (start..end).contains(&window))
        })
        .collect();
    assert!(
        outside.is_empty(),
        "alerts outside the anomalies: {outside:?}"
    );

    // The API serves both, newest window first.
    let api = ApiProcess::start(servers.path(), &url);
    let (status, body) = api
        .get("/temps-reel/alertes?topic=spike&pays=France&rule=part_abandon")
        .await;
    assert_eq!(status, 200, "{body}");
    let served = body["data"].as_array().expect("data");
    assert!(!served.is_empty(), "{body}");
    assert!(
        served
            .iter()
            .all(|a| a["pays"] == "France" && a["rule"] == "part_abandon")
    );
    let (status, body) = api
        .get("/temps-reel/fenetres?topic=spike&type=achat&pays=France&limit=3")
        .await;
    assert_eq!(status, 200, "{body}");
    let starts: Vec<i64> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|w| w["window_start_ms"].as_i64())
        .collect();
    let last = logged_counts(&log)
        .keys()
        .filter(|(_, kind, pays)| kind == "achat" && pays == "France")
        .map(|(start, _, _)| *start)
        .max()
        .expect("purchases in France");
    assert_eq!(starts, [last, last - WINDOW_MS, last - 2 * WINDOW_MS]);
    let (status, body) = api.get("/temps-reel/fenetres?type=clic").await;
    assert_eq!(
        (status, body["error"]["parameter"].as_str()),
        (400, Some("type"))
    );
    let (_, openapi) = api.get("/openapi.json").await;
    assert!(openapi["paths"]["/temps-reel/alertes"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_processor_killed_mid_stream_resumes_and_two_share_the_partitions() {
    let servers = Servers::start();
    let (brokers, url) = (servers.kafka.brokers(), servers.mongo.url());
    let db = servers.db().await;

    // A steady stream of ten minutes, kill -9 mid-stream, then a restart: no window lost, none
    // counted twice.
    let env = stream_env(&brokers, &url, "crash");
    let log = servers.path().join("crash.csv");
    steady_stream(&servers, &env, "600", &log);
    let mut victim = processor(&servers, &env, "g-crash");
    let checkpoints = db.collection::<Document>("stream_checkpoints");
    let runtime = tokio::runtime::Handle::current();
    wait_for(
        "a quarter of the events checkpointed",
        Duration::from_secs(120),
        || {
            let docs: Vec<Document> = tokio::task::block_in_place(|| {
                runtime.block_on(async {
                    checkpoints
                        .find(doc! { "topic": "crash" })
                        .await
                        .expect("find")
                        .try_collect()
                        .await
                        .expect("docs")
                })
            });
            docs.iter()
                .filter_map(|d| d.get_i64("offset").ok())
                .sum::<i64>()
                > 75_000
        },
    );
    victim.kill().expect("kill -9");
    let _ = victim.wait();
    let resumed = finished(processor(&servers, &env, "g-crash"), &servers.kafka);
    assert!(
        events_read(&resumed) < 300_000,
        "the restart began from its checkpoints: {resumed}"
    );
    assert_counts_match(&db, "crash", &log).await;
    // Ten steady minutes: no alert.
    let alerts = documents(&db, "stream_alertes", "crash").await;
    assert!(alerts.is_empty(), "a steady stream raised {alerts:?}");

    // Two processes of one group: each gets partitions, and the totals still match.
    let env = stream_env(&brokers, &url, "shared");
    let log = servers.path().join("shared.csv");
    steady_stream(&servers, &env, "300", &log);
    let (one, two) = (
        processor(&servers, &env, "g-shared"),
        processor(&servers, &env, "g-shared"),
    );
    let (one, two) = (finished(one, &servers.kafka), finished(two, &servers.kafka));
    assert!(
        events_read(&one) > 0 && events_read(&two) > 0,
        "{one}\n{two}"
    );
    assert_counts_match(&db, "shared", &log).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_events_go_to_the_dead_letter_topic_and_late_ones_are_counted() {
    let servers = Servers::start();
    let (brokers, url) = (servers.kafka.brokers(), servers.mongo.url());
    let env = stream_env(&brokers, &url, "mixed");
    ok_with(
        servers.path(),
        &["stream", "setup", "--topic-partitions", "1"],
        &env,
    );
    let view = |seconds: i64, kind: &str| {
        let time = chrono::DateTime::from_timestamp_millis(T0_MS + seconds * 1000)
            .expect("time")
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        format!(
            r#"{{"version":1,"event_id":"e{seconds}","event_time":"{time}","session_id":"s1","id_client":null,"type":"{kind}","produit":null,"montant":null,"pays":"France"}}"#
        )
    };
    let messages = [
        view(1, "page_vue"),
        "{oops".to_string(),
        view(2, "clic"),
        view(3, "page_vue").replace(r#","pays":"France""#, ""),
        view(12, "page_vue"),
        // Watermark 16 − 5 = 11: [0, 10) closes.
        view(16, "page_vue"),
        // Out of order, inside the lateness: counted in [10, 20).
        view(14, "page_vue"),
        // Its window is closed: late.
        view(8, "page_vue"),
        view(31, "page_vue"),
    ];
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .expect("producer");
    for message in &messages {
        producer
            .send(
                FutureRecord::to("mixed").key("s1").payload(message),
                Duration::from_secs(10),
            )
            .await
            .expect("sent");
    }
    // The processor's metrics, read while it runs: 6 events (the late one among them), 3 dead
    // letters, 1 late, the windows [0, 10), [10, 20) and [30, 40) written ([30, 40) closed by
    // --idle-close), and the one partition read to its end (9 messages).
    let mut serving = MetricsProcessor::start(&servers, &env, "g-mixed");
    let expected = [
        ("lake_stream_events_total", 6),
        ("lake_stream_dead_letters_total", 3),
        ("lake_stream_late_events_total", 1),
        ("lake_stream_windows_written_total", 3),
        ("lake_stream_partitions_owned", 1),
        ("lake_stream_partition_end_offset{partition=\"0\"}", 9),
        ("lake_stream_partition_next_offset{partition=\"0\"}", 9),
        ("lake_stream_partition_lag{partition=\"0\"}", 0),
    ];
    let mut seen = BTreeMap::new();
    wait_for("the processor's metrics", Duration::from_secs(60), || {
        serving.assert_running(&servers.kafka);
        seen = serving.scrape();
        expected
            .iter()
            .all(|(name, value)| seen.get(*name) == Some(&(*value as f64)))
    });
    assert!(
        !seen
            .keys()
            .any(|name| name.starts_with("lake_stream_alerts_total")),
        "no alert expected: {seen:?}"
    );
    drop(serving);

    let db = servers.db().await;
    let (windows, late) = written_counts(&db, "mixed").await;
    let key = |seconds: i64| {
        (
            T0_MS + seconds * 1000,
            "page_vue".to_string(),
            "France".to_string(),
        )
    };
    assert_eq!(
        windows,
        BTreeMap::from([(key(0), 1), (key(10), 3), (key(30), 1)])
    );
    assert_eq!(late, BTreeMap::from([(key(0), 1)]));

    // The dead letters, in order, each with its reason and the message as received.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("group.id", "dead-letter-reader")
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    consumer
        .subscribe(&["mixed.dead-letter"])
        .expect("subscribe");
    let mut letters: Vec<serde_json::Value> = Vec::new();
    wait_for("three dead letters", Duration::from_secs(30), || {
        if let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) {
            let body = message.payload().unwrap_or_default();
            letters.push(serde_json::from_slice(body).expect("a JSON dead letter"));
        }
        letters.len() >= 3
    });
    let reasons: Vec<&str> = letters
        .iter()
        .filter_map(|l| l["reason"].as_str())
        .collect();
    assert!(reasons[0].starts_with("malformed JSON"), "{reasons:?}");
    assert!(reasons[1].contains("unknown type \"clic\""), "{reasons:?}");
    assert!(reasons[2].contains("missing field `pays`"), "{reasons:?}");
    assert_eq!(letters[0]["payload"], "{oops");
    assert_eq!(letters[0]["offset"], 1);
}
