//! `lake bench refresh`: the brief's refresh time, Gold → MongoDB → API. Each round reloads the
//! current Gold as a new generation of collections (timed per table), and a poller reading
//! `/freshness` in a loop notes when the API first answers with the new load; the delay is
//! counted from the moment MongoDB acknowledged the pointer switch.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use flight_api::mongo::load::{LoadEvent, LoadOptions, LoadOutcome};
use lake_core::Lake;
use serde_json::json;

use crate::stats::{Spread, group_digits, percentile};
use crate::{LakeLocation, Mongo};

/// What `lake bench refresh` measures with.
#[derive(Debug, Clone)]
pub struct RefreshConfig {
    /// The database the loads write and the API reads.
    pub mongo: Mongo,
    /// An HTTP API reading that MongoDB; `None`: start `lake-api` next to this binary.
    pub api: Option<String>,
    /// Loads to time (each one switches the pointer once).
    pub loads: u32,
    /// Write `refresh-<date>-<label>.json` and `.md` into this folder.
    pub out: Option<std::path::PathBuf>,
    /// Label of the result files.
    pub label: String,
}

/// Longest wait for the API to start, or to show a switched version.
const WAIT: Duration = Duration::from_secs(30);
/// Pause between two `/freshness` reads of the poller.
const POLL_EVERY: Duration = Duration::from_millis(2);

/// One timed load.
struct Round {
    seconds: f64,
    documents: u64,
    tables: BTreeMap<String, (u64, f64)>,
    /// Pointer acknowledged → first `/freshness` answer naming the load.
    visible_after: Duration,
}

/// Loads the lake's current Gold into MongoDB `args.loads` times (each a new version), timing
/// each load and the delay until the API names the new version; prints and writes the report.
pub async fn run(lake_args: &LakeLocation, lake: &Lake, args: &RefreshConfig) -> Result<()> {
    let db = flight_api::mongo::connect(&args.mongo.mongo_url, &args.mongo.mongo_db)
        .await
        .with_context(|| format!("invalid MongoDB URL {}", args.mongo.mongo_url))?;
    // Our own API process lives (and is stopped) with this function.
    let started = match &args.api {
        Some(_) => None,
        None => Some(ApiProcess::start(lake_args, args)?),
    };
    let api = match (&args.api, &started) {
        (Some(url), _) => url.trim_end_matches('/').to_string(),
        (None, Some(process)) => process.base.clone(),
        (None, None) => bail!("no API to measure"),
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .context("building the HTTP client")?;
    let seen: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let poller = tokio::spawn(poll_freshness(client, api.clone(), Arc::clone(&seen)));

    println!(
        "bench refresh: {} load(s) of the current Gold into {} (database {}), API {api}",
        args.loads, args.mongo.mongo_url, args.mongo.mongo_db
    );
    let mut rounds = Vec::new();
    for round in 1..=args.loads {
        let mut switched: Option<(String, Instant)> = None;
        let outcome = flight_api::mongo::load::load(
            lake,
            &db,
            LoadOptions {
                reload: true,
                ..Default::default()
            },
            |event| {
                if let LoadEvent::Switched { loaded_at, .. } = event {
                    switched = Some((loaded_at.to_string(), Instant::now()));
                }
            },
        )
        .await
        .with_context(|| format!("load {round} of {}", args.loads))?;
        let LoadOutcome::Loaded {
            tables, seconds, ..
        } = outcome
        else {
            bail!("load {round} did not load (a reload always should)");
        };
        let Some((loaded_at, switched_at)) = switched else {
            bail!("load {round} finished without switching the pointer");
        };
        let visible_at = wait_until_seen(&seen, &loaded_at, &poller)
            .await
            .with_context(|| format!("the API at {api} after load {round}"))?;
        let documents = tables.values().map(|(rows, _)| rows).sum();
        let visible_after = visible_at.saturating_duration_since(switched_at);
        println!(
            "  load {round}/{}: {} documents in {seconds:.2} s; the API answered with it {:.1} ms \
             after the switch",
            args.loads,
            group_digits(documents),
            visible_after.as_secs_f64() * 1e3
        );
        rounds.push(Round {
            seconds,
            documents,
            tables,
            visible_after,
        });
    }
    poller.abort();

    let report = Report::from_rounds(&rounds);
    print!("{}", report.markdown(args));
    if let Some(folder) = &args.out {
        report.write(folder, &lake_args.lake, args)?;
    }
    Ok(())
}

/// Reads `/freshness` in a loop and notes when each `loaded_at` was first answered. Errors
/// (e.g. 503 while the store is unreachable) are skipped: the wait below is bounded.
async fn poll_freshness(
    client: reqwest::Client,
    api: String,
    seen: Arc<Mutex<HashMap<String, Instant>>>,
) {
    let url = format!("{api}/freshness");
    loop {
        if let Ok(response) = client.get(&url).send().await
            && response.status().is_success()
            && let Ok(text) = response.text().await
            && let Ok(body) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(loaded_at) = body.get("loaded_at").and_then(|v| v.as_str())
        {
            let at = Instant::now();
            if let Ok(mut seen) = seen.lock() {
                seen.entry(loaded_at.to_string()).or_insert(at);
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

async fn wait_until_seen(
    seen: &Mutex<HashMap<String, Instant>>,
    loaded_at: &str,
    poller: &tokio::task::JoinHandle<()>,
) -> Result<Instant> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(at) = seen.lock().ok().and_then(|s| s.get(loaded_at).copied()) {
            return Ok(at);
        }
        if poller.is_finished() {
            bail!("the /freshness poller stopped");
        }
        if Instant::now() > deadline {
            bail!("did not answer with the load of {loaded_at} within {WAIT:?}");
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// `lake-api` started next to this binary on a free port, serving from the same MongoDB;
/// stopped on drop.
struct ApiProcess {
    child: Child,
    base: String,
}

impl ApiProcess {
    fn start(lake: &LakeLocation, args: &RefreshConfig) -> Result<Self> {
        let exe = std::env::current_exe().context("locating the lake binary")?;
        let binary = exe.with_file_name("lake-api");
        if !binary.exists() {
            bail!(
                "{} not found: build it (`make build`) or pass --api URL of a running API",
                binary.display()
            );
        }
        let mut command = Command::new(&binary);
        command
            .args(["--bind", "127.0.0.1:0", "--flight-bind", "off"])
            .env("LAKE_ROOT", &lake.lake)
            .env("LAKE_MONGO_URL", &args.mongo.mongo_url)
            .env("LAKE_MONGO_DB", &args.mongo.mongo_db)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in [
            ("LAKE_S3_ENDPOINT", &lake.s3.endpoint),
            ("LAKE_S3_ACCESS_KEY_ID", &lake.s3.access_key_id),
            ("LAKE_S3_SECRET_ACCESS_KEY", &lake.s3.secret_access_key),
            ("LAKE_S3_REGION", &lake.s3.region),
        ] {
            if let Some(value) = value {
                command.env(name, value);
            }
        }
        if lake.s3.allow_http {
            command.env("LAKE_S3_ALLOW_HTTP", "true");
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stdout = child.stdout.take().context("lake-api stdout")?;
        // Its first line names the address; read it on a thread so the wait is bounded.
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next();
            let _ = sender.send(first);
            for _ in lines {}
        });
        // Owned before the wait, so the child is stopped (on drop) if it never listens.
        let mut process = Self {
            child,
            base: String::new(),
        };
        let line = match receiver.recv_timeout(WAIT) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => bail!("lake-api exited before listening (see its errors above)"),
            Err(_) => bail!("lake-api did not listen within {WAIT:?}"),
        };
        let address = line
            .trim()
            .strip_prefix("listening on ")
            .with_context(|| format!("unexpected first line of lake-api: {line:?}"))?;
        process.base = address.to_string();
        Ok(process)
    }
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Report {
    loads: usize,
    documents: u64,
    total: Spread,
    tables: Vec<(String, u64, Spread)>,
    delays_ms: Vec<f64>,
}

impl Report {
    fn from_rounds(rounds: &[Round]) -> Self {
        let totals: Vec<f64> = rounds.iter().map(|r| r.seconds).collect();
        let mut per_table: BTreeMap<&str, (u64, Vec<f64>)> = BTreeMap::new();
        for round in rounds {
            for (table, (rows, seconds)) in &round.tables {
                let entry = per_table.entry(table).or_default();
                entry.0 = *rows;
                entry.1.push(*seconds);
            }
        }
        let mut tables: Vec<(String, u64, Spread)> = per_table
            .into_iter()
            .map(|(table, (rows, seconds))| (table.to_string(), rows, Spread::of(&seconds)))
            .collect();
        tables.sort_by(|a, b| b.2.median.total_cmp(&a.2.median));
        Self {
            loads: rounds.len(),
            documents: rounds.first().map_or(0, |r| r.documents),
            total: Spread::of(&totals),
            tables,
            delays_ms: rounds
                .iter()
                .map(|r| r.visible_after.as_secs_f64() * 1e3)
                .collect(),
        }
    }

    fn markdown(&self, args: &RefreshConfig) -> String {
        let mut out = String::new();
        let docs_per_second = self.documents as f64 / self.total.median;
        out.push_str(&format!(
            "\n## Refresh: Gold → MongoDB → API ({} loads, {})\n\n\
             | figure | median | min | max |\n|---|---:|---:|---:|\n\
             | full load, {} documents (s) | {:.2} | {:.2} | {:.2} |\n\
             | switch → API answers the new version (ms), p50 / p99 | {:.1} / {:.1} | {:.1} | {:.1} |\n\n\
             Load throughput (median): {} documents/s.\n\n\
             | table | documents | median (s) | min (s) | max (s) |\n|---|---:|---:|---:|---:|\n",
            self.loads,
            args.mongo.mongo_url,
            group_digits(self.documents),
            self.total.median,
            self.total.min,
            self.total.max,
            percentile(&self.delays_ms, 50.0),
            percentile(&self.delays_ms, 99.0),
            Spread::of(&self.delays_ms).min,
            Spread::of(&self.delays_ms).max,
            group_digits(docs_per_second.round() as u64),
        ));
        for (table, rows, spread) in &self.tables {
            out.push_str(&format!(
                "| {table} | {} | {:.3} | {:.3} | {:.3} |\n",
                group_digits(*rows),
                spread.median,
                spread.min,
                spread.max
            ));
        }
        out
    }

    fn write(&self, folder: &Path, lake_root: &str, args: &RefreshConfig) -> Result<()> {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        let stem = format!(
            "refresh-{}-{}",
            chrono::Utc::now().format("%Y-%m-%d"),
            args.label
        );
        let raw = json!({
            "mongo_url": args.mongo.mongo_url,
            "loads": self.loads,
            "documents": self.documents,
            "load_seconds": { "median": self.total.median, "min": self.total.min, "max": self.total.max },
            "switch_to_api_ms": {
                "p50": percentile(&self.delays_ms, 50.0),
                "p99": percentile(&self.delays_ms, 99.0),
                "samples": self.delays_ms,
            },
            "tables": self.tables.iter().map(|(table, rows, spread)| json!({
                "table": table, "documents": rows,
                "median_s": spread.median, "min_s": spread.min, "max_s": spread.max,
            })).collect::<Vec<_>>(),
        });
        let json_path = folder.join(format!("{stem}.json"));
        let text = serde_json::to_string_pretty(&raw).context("encoding the results")?;
        std::fs::write(&json_path, text)
            .with_context(|| format!("writing {}", json_path.display()))?;
        let md_path = folder.join(format!("{stem}.md"));
        let command = format!(
            "lake --lake {} bench refresh --mongo-url {} --loads {} --label {}",
            lake_root, args.mongo.mongo_url, self.loads, args.label
        );
        std::fs::write(
            &md_path,
            format!("{}\nReproduce: `{command}`\n", self.markdown(args)),
        )
        .with_context(|| format!("writing {}", md_path.display()))?;
        println!("wrote {} and {}", json_path.display(), md_path.display());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_and_percentiles_of_hand_worked_samples() {
        let s = Spread::of(&[3.0, 1.0, 2.0, 10.0]);
        assert_eq!(
            s,
            Spread {
                median: 2.5,
                min: 1.0,
                max: 10.0
            }
        );
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&hundred, 50.0), 50.0);
        assert_eq!(percentile(&hundred, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 50.0), 2.0);
    }
}
