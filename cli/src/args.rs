//! Command-line arguments.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand, ValueEnum};

pub use crate::report::ReportFormat;

/// The sources folder `lake run` fills with generated data when it holds no CSV source.
pub const DEFAULT_SOURCES: &str = "data/sources";

#[derive(Debug, Parser)]
#[command(
    name = "lake",
    version,
    about = "E-commerce data lake on Ballista: generate → Bronze → Silver → Gold, as SQL files",
    long_about = "E-commerce data lake on Ballista.\n\n\
        CSV sources (clients, achats) are ingested into Bronze, cleaned into Silver and \
        aggregated into Gold KPIs by the SQL models of sql/, run on Ballista (standalone in this \
        process by default, or a remote cluster with --scheduler). Each layer is published \
        atomically with a manifest.\n\n\
        Start with `lake run`: it generates SF 0.1 data when data/sources is empty, then runs \
        every stage and prints the KPIs. Then query with `lake sql \"SELECT * FROM gold.kpi_globaux\"`.",
    after_help = "Examples:\n  \
        lake run                                   # the whole pipeline, local lake in ./lake\n  \
        lake generate --scale 1 --out data/sources # 100 000 clients, 1 000 000 purchases\n  \
        lake sql \"SELECT segment, COUNT(*) FROM gold.dim_rfm GROUP BY 1\" --format csv\n  \
        lake --lake s3://lake/demo --s3-endpoint http://127.0.0.1:9000 --s3-allow-http run"
)]
pub struct Cli {
    #[command(flatten)]
    pub lake: LakeArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the lake lives and which engine runs the SQL.
#[derive(Debug, Args, Clone)]
pub struct LakeArgs {
    /// Lake root: a local folder, or s3://bucket/prefix.
    #[arg(long, global = true, env = "LAKE_ROOT", default_value = "lake")]
    pub lake: String,

    /// Ballista scheduler of a remote cluster (df://host:port); default: standalone in-process.
    #[arg(long, global = true, env = "LAKE_SCHEDULER")]
    pub scheduler: Option<String>,

    /// Engine when no --scheduler is given: Ballista standalone, or DataFusion alone.
    #[arg(long, global = true, env = "LAKE_ENGINE", value_enum, default_value_t = LocalEngine::Standalone)]
    pub engine: LocalEngine,

    /// Partitions per query (default: number of cores; on a cluster, Silver and Gold size them
    /// from the purchases in Bronze: one per million, at most 32). Each table is written by one
    /// task per partition; on a cluster, shuffle partitions fetched from another executor are
    /// held whole in memory, so their size bounds the executors' memory (SF 10: 10, SF 100: 32).
    #[arg(long, global = true, env = "LAKE_PARTITIONS")]
    pub partitions: Option<usize>,

    /// Session setting KEY=VALUE for every query (repeatable), e.g.
    /// --set ballista.planner.adaptive.enabled=false or --set datafusion.execution.batch_size=16384.
    #[arg(long = "set", global = true, value_name = "KEY=VALUE", value_parser = parse_setting)]
    pub settings: Vec<(String, String)>,

    /// Longest one job (a model, a query) may run before it is abandoned (and cancelled on the
    /// cluster) and the command fails, publishing nothing; 0 for no limit.
    #[arg(
        long,
        global = true,
        env = "LAKE_JOB_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = lake_core::pipeline::DEFAULT_JOB_TIMEOUT.as_secs()
    )]
    pub job_timeout_seconds: u64,

    /// How long a command that writes the lake (ingest, silver, gold, ml, run) waits for the
    /// lease of another writer; 0: fail at once, naming the holder. One writer at a time.
    #[arg(
        long,
        global = true,
        env = "LAKE_LEASE_WAIT",
        value_name = "SECONDS",
        default_value_t = 0
    )]
    pub lease_wait: u64,

    /// Time to live of the writer's lease, renewed every third of it: how long the lease of a
    /// writer that died (kill -9, a lost host) keeps others out before it is taken over.
    #[arg(
        long,
        global = true,
        env = "LAKE_LEASE_TTL",
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(3..)
    )]
    pub lease_ttl: u64,

    /// Memory the queries of this process may hold (standalone and --engine datafusion), e.g.
    /// 512MiB or 4GiB; 0 for no limit. Past its share a sort or an aggregate spills to
    /// --spill-dir; a join whose build side does not fit fails, naming this setting. A
    /// cluster's executors have their own (`lake cluster up --executor-memory`).
    #[arg(
        long,
        global = true,
        env = "LAKE_MEMORY_LIMIT",
        value_name = "SIZE",
        default_value_t = lake_core::memory::DEFAULT_MEMORY_LIMIT
    )]
    pub memory_limit: lake_core::memory::MemoryLimit,

    /// Folder for the spill files of this process's queries (default: the system's temporary
    /// directory).
    #[arg(long, global = true, env = "LAKE_SPILL_DIR")]
    pub spill_dir: Option<PathBuf>,

    /// Run the SQL models of this folder instead of those built into the binary.
    #[arg(long, global = true, env = "LAKE_SQL_DIR")]
    pub sql_dir: Option<PathBuf>,

    /// S3 endpoint, e.g. http://127.0.0.1:9000 for MinIO (default: AWS_ENDPOINT).
    #[arg(long, global = true, env = "LAKE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,

    /// S3 access key (default: AWS_ACCESS_KEY_ID).
    #[arg(long, global = true, env = "LAKE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,

    /// S3 secret key (default: AWS_SECRET_ACCESS_KEY).
    #[arg(
        long,
        global = true,
        env = "LAKE_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,

    /// S3 region (default: AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, global = true, env = "LAKE_S3_REGION")]
    pub s3_region: Option<String>,

    /// Allow plain HTTP to S3 (implied by an http:// endpoint: MinIO and test servers).
    #[arg(long, global = true, env = "LAKE_S3_ALLOW_HTTP", value_parser = BoolishValueParser::new())]
    pub s3_allow_http: bool,

    /// Exit with status 4 when there was nothing to do (no new source file, every layer up to
    /// date, the version already in MongoDB) instead of 0: for orchestrators.
    #[arg(long, global = true, env = "LAKE_DETAILED_EXIT_CODES", value_parser = BoolishValueParser::new())]
    pub detailed_exit_codes: bool,
}

fn parse_setting(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.trim().to_string()))
        }
        _ => Err(format!("{text:?}: expected KEY=VALUE")),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum LocalEngine {
    /// Ballista scheduler and executor inside this process.
    Standalone,
    /// DataFusion alone (no Ballista), for comparison.
    Datafusion,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: generate (when data/sources is empty) → ingest → Silver → Gold → ML, then KPIs.
    Run(RunArgs),
    /// Write deterministic clients.csv / achats.csv with injected defects and a manifest.
    Generate(GenerateArgs),
    /// Ingest new or changed CSV files of a folder into sources/ and bronze/.
    Ingest(SourcesArgs),
    /// Build and publish Silver from Bronze (quality report, quarantine).
    Silver(SettingsArgs),
    /// Build and publish Gold from the published Silver (--select: some models only).
    Gold(GoldArgs),
    /// Train the customer segmentation (KMeans) and the churn model on the published Gold,
    /// score every buyer, and publish gold/ml/ (segments_ml, segments_profils, scores_churn,
    /// model_report).
    Ml(MlCommandArgs),
    /// Run SQL against bronze.*, silver.*, gold.*, reference.* and print the result.
    Sql(SqlArgs),
    /// MongoDB, the API's serving store: `lake mongo load` copies the published Gold and ML
    /// tables into versioned collections, then switches one pointer document.
    #[command(subcommand)]
    Mongo(MongoCommand),
    /// Real time on Kafka: `setup` creates the topics, `produce` simulates shoppers, `process`
    /// counts events in windows, detects anomalies and writes both to MongoDB.
    #[command(subcommand)]
    Stream(StreamCommand),
    /// Benchmarks of the serving chain (the engine benchmarks live in benches/).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Whether another build holds the same tables as this lake's published layers: same
    /// columns, same rows in any order, floats within a relative tolerance. Exits with an error
    /// naming the tables that differ, and shows their first differing rows.
    #[command(after_help = "Examples:\n  \
        lake compare ../lake-datafusion              another lake (its published runs)\n  \
        lake compare /tmp/duckdb-out --layer gold    a folder of <layer>/<table>/*.parquet")]
    Compare(CompareArgs),
    /// Show what each layer currently publishes (run id, as_of, tables and rows).
    Status(ReportArgs),
    /// Start, inspect or stop a local Ballista cluster (1 scheduler + N executors, no Docker).
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Recent jobs of the scheduler (--scheduler, else the local cluster's): status, duration
    /// and, for the local cluster, tasks per executor and the last (write) stage's wall time.
    Jobs(JobsArgs),
}

impl Command {
    /// The command's name in its JSON report, and how it reports (`None`: it has no report).
    pub fn report(&self) -> Option<(&'static str, ReportFormat)> {
        Some(match self {
            Command::Run(a) => ("run", a.settings.report.format),
            Command::Ingest(a) => ("ingest", a.report.format),
            Command::Silver(a) => ("silver", a.report.format),
            Command::Gold(a) => ("gold", a.settings.report.format),
            Command::Ml(a) => ("ml", a.report.format),
            Command::Status(a) => ("status", a.format),
            Command::Compare(a) => ("compare", a.report.format),
            Command::Mongo(MongoCommand::Load(a)) => ("mongo load", a.report.format),
            _ => return None,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum MongoCommand {
    /// Load the current Gold (and ML) into MongoDB: new collections per version with an index
    /// for every filter and sort of the API, then one pointer switch; older versions are dropped.
    /// Loading the version already served does nothing.
    Load(MongoLoadArgs),
}

#[derive(Debug, Args)]
pub struct MongoArgs {
    /// MongoDB URL, e.g. mongodb://127.0.0.1:27017.
    #[arg(long, env = "LAKE_MONGO_URL")]
    pub mongo_url: String,
    /// Database of the collections.
    #[arg(long, env = "LAKE_MONGO_DB", default_value = "lake")]
    pub mongo_db: String,
}

#[derive(Debug, Args)]
pub struct MongoLoadArgs {
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// Load even when this Gold is already served, as a new generation of collections (to
    /// repair collections damaged by hand; `lake bench refresh` uses it).
    #[arg(long)]
    pub reload: bool,
    /// Do not create or redefine the views named after the tables (`fact_ca_mois`, ...) that
    /// BI tools such as Metabase read; by default each load points them at its collections
    /// (on a server that has views: MongoDB does, FerretDB does not).
    #[arg(long, env = "LAKE_MONGO_NO_VIEWS", value_parser = BoolishValueParser::new())]
    pub no_views: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// The brief's refresh time: Gold → MongoDB load time per table and in total, and the delay
    /// between the pointer switch and the HTTP API answering with the new version (p50 / p99),
    /// over repeated loads of the current Gold (each a new generation of collections).
    #[command(after_help = "Example:\n  \
        lake bench refresh --mongo-url mongodb://127.0.0.1:27017 --loads 10 --out benches/results\n\n\
        Without --api it starts lake-api (next to this binary) on a free port, serving from the \
        same MongoDB.")]
    Refresh(RefreshArgs),
    /// The stream processor on this machine, with the producer beside it: sustained throughput
    /// on a stream sent as fast as possible, then the latency from an event's creation to its
    /// window in MongoDB (p50 / p99) and to an injected spike's alert, at a steady wall-clock
    /// rate. Each run uses new topics.
    #[command(after_help = "Example:\n  \
        lake bench stream --brokers 127.0.0.1:9092 --mongo-url mongodb://127.0.0.1:27017 \\\n      \
        --runs 3 --out benches/results --label ferretdb")]
    Stream(StreamBenchArgs),
}

#[derive(Debug, Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// HTTP API reading that MongoDB (e.g. http://127.0.0.1:8080); default: start lake-api.
    #[arg(long)]
    pub api: Option<String>,
    /// Loads to time (each one switches the pointer once).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub loads: u32,
    /// Write refresh-<date>-<label>.json and .md into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Label of the result files (e.g. sf1-ferretdb).
    #[arg(long, default_value = "refresh")]
    pub label: String,
}

#[derive(Debug, Args, Clone)]
pub struct StateDirArgs {
    /// Folder of the local cluster's pids, logs, shuffle files and job event logs.
    #[arg(long, env = "LAKE_CLUSTER_DIR", default_value = ".lake-cluster")]
    pub state_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
#[command(after_help = "Example:\n  \
    lake cluster up && lake --scheduler df://127.0.0.1:50050 run && lake jobs && lake cluster down")]
pub enum ClusterCommand {
    /// Start lake-scheduler and the lake-executors as background processes on this machine,
    /// and wait until every executor is registered. On a running cluster, restarts the
    /// executors that stopped (same ports and settings).
    Up(ClusterUpArgs),
    /// Processes, registered executors with their task slots, and running jobs; exits non-zero
    /// when something is down.
    Status(StateDirArgs),
    /// Stop the processes `up` started (SIGTERM, then SIGKILL after --grace-seconds).
    Down(ClusterDownArgs),
}

#[derive(Debug, Args)]
pub struct ClusterUpArgs {
    #[command(flatten)]
    pub state: StateDirArgs,
    /// Address every process binds to and advertises.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_host: String,
    /// Scheduler gRPC and REST port (0: any free port).
    #[arg(long, default_value_t = 50050)]
    pub scheduler_port: u16,
    /// First executor port: executor i uses base+3i (Flight), base+3i+1 (gRPC) and base+3i+2
    /// (/healthz); 0: any free ports.
    #[arg(long, default_value_t = 50051)]
    pub executor_base_port: u16,
    /// Number of executors.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub executors: u16,
    /// Task slots per executor (0: the number of cores).
    #[arg(long, default_value_t = 0)]
    pub vcores: usize,
    /// Memory pool of each executor, shared by its task slots (lake-executor
    /// --memory-pool-size), e.g. 512MiB or 4GiB; 0 for no limit. Sorts and aggregates past
    /// their share spill into the executor's work folder.
    #[arg(long, value_name = "SIZE", default_value_t = lake_core::memory::DEFAULT_MEMORY_LIMIT)]
    pub executor_memory: lake_core::memory::MemoryLimit,
    /// Executor heartbeat interval in seconds (Ballista's default: 60).
    #[arg(long)]
    pub heartbeat_seconds: Option<u64>,
    /// Seconds without heartbeat before the scheduler declares an executor dead and reschedules
    /// its tasks (Ballista's default: 180). Keep it above the heartbeat interval.
    #[arg(long)]
    pub executor_timeout_seconds: Option<u64>,
    /// How long to wait for every executor to register.
    #[arg(long, default_value_t = 60)]
    pub wait_seconds: u64,
    /// Folder of lake-scheduler and lake-executor (default: beside lake, else PATH).
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// Extra argument for lake-scheduler (repeatable), e.g. --scheduler-arg=--task-max-failures=2.
    #[arg(long = "scheduler-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub scheduler_args: Vec<String>,
    /// Extra argument for every lake-executor (repeatable).
    #[arg(long = "executor-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub executor_args: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ClusterDownArgs {
    #[command(flatten)]
    pub state: StateDirArgs,
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[arg(long, default_value_t = 10)]
    pub grace_seconds: u64,
}

#[derive(Debug, Args)]
pub struct JobsArgs {
    #[command(flatten)]
    pub state: StateDirArgs,
    /// Show at most this many jobs, most recent first.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct SourcesArgs {
    /// Folder of the CSV sources (clients*.csv, achats*.csv).
    #[arg(long, default_value = DEFAULT_SOURCES)]
    pub sources: PathBuf,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How a pipeline command reports what it did.
#[derive(Debug, Args, Clone, Copy)]
pub struct ReportArgs {
    /// `json`: one JSON document on standard output at the end (run id, rows and seconds per
    /// table, quality checks, the error if any), progress lines on standard error.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Reference time (YYYY-MM-DD[ HH:MM:SS]). Default: for `lake gold`, the as_of of the
    /// current Silver; otherwise the generator's (from the manifest in --sources), else now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Folder of the CSV sources; its generation manifest, if any, gives the default as_of.
    #[arg(long, default_value = DEFAULT_SOURCES)]
    pub sources: PathBuf,
    /// Amounts above this are quarantined as aberrant (rule A6).
    #[arg(long, default_value_t = 10_000.0)]
    pub seuil_montant_aberrant: f64,
    /// Largest share of quarantined rows per entity; above it the run stops (blocking check).
    #[arg(long, default_value_t = 0.05)]
    pub seuil_quarantaine: f64,
    /// Largest share of missing values per client column (reported).
    #[arg(long, default_value_t = 0.05)]
    pub seuil_completude: f64,
    /// Largest share of purchases dated before registration (reported).
    #[arg(long, default_value_t = 0.01)]
    pub seuil_coherence: f64,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct GoldArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Rebuild only this model and the models it reads (`kpi_clv`), or also every model that
    /// reads it (`kpi_clv+`); repeatable. The other tables are copied from the published Gold,
    /// which must have been built from the current Silver with the same settings. For a rerun
    /// after a failure or an edit of a model's SQL.
    #[arg(long, value_name = "MODEL[+]")]
    pub select: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Scale factor of the data generated when the default sources folder (data/sources) holds
    /// no clients*.csv or achats*.csv (1 = 1 M purchases). Another --sources folder is filled
    /// with generated data only with --generate: a missing or empty one is an error.
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Generate data (--scale, --seed) into --sources when it holds no clients*.csv or
    /// achats*.csv, whatever the folder (the default folder, data/sources, always is).
    #[arg(long)]
    pub generate: bool,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Stop after Gold: do not train the ML models (gold/ml/ keeps its previous run).
    #[arg(long)]
    pub no_ml: bool,
    /// Build every layer again, even those already published from the same inputs and
    /// settings (skipped otherwise).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub ml: MlArgs,
}

#[derive(Debug, Args)]
pub struct MlCommandArgs {
    #[command(flatten)]
    pub ml: MlArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args, Clone)]
pub struct MlArgs {
    /// Churn horizon H in days: a buyer churned at a cutoff when they buy nothing in the H days
    /// after it. The model trains at ref_date - 2H and is judged at ref_date - H.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub horizon_days: u32,
    /// Seed of KMeans' initialisation (the same seed gives the same segments).
    #[arg(long, default_value_t = 42)]
    pub ml_seed: u64,
    /// Smallest number of segments tried (k is chosen on the silhouette).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(2..=50))]
    pub k_min: u16,
    /// Largest number of segments tried.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(2..=50))]
    pub k_max: u16,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Scale factor: SF 1 = 100 000 clients and 1 000 000 purchases over two years.
    #[arg(long, default_value_t = 0.1)]
    pub scale: f64,
    /// Random seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Reference time: purchases end the day before; future-dated defects come after.
    #[arg(long, default_value = "2026-01-01")]
    pub as_of: String,
    /// Output folder.
    #[arg(long, default_value = "data/sources")]
    pub out: PathBuf,
    /// Share of rows each defect touches (default 0.002).
    #[arg(long)]
    pub defect_rate: Option<f64>,
    /// Rate of one defect, ID=RATE (repeatable), e.g. --defect A4=0.01.
    #[arg(long = "defect", value_name = "ID=RATE")]
    pub defects: Vec<String>,
    /// Churn planted in the purchases: `decline` (buyers leave after a random lifetime, buying
    /// less and less over the 120 days before) or `absent` (one constant rate for everyone,
    /// nobody leaves: a churn model must find nothing).
    #[arg(long, default_value = "decline", value_parser = parse_churn_signal)]
    pub churn_signal: lake_generator::ChurnSignal,
}

fn parse_churn_signal(text: &str) -> Result<lake_generator::ChurnSignal, String> {
    text.parse()
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query (or use -f).
    #[arg(conflicts_with = "file", required_unless_present = "file")]
    pub query: Option<String>,
    /// Read the query from a file.
    #[arg(short = 'f', long)]
    pub file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers.
    #[arg(long, env = "LAKE_KAFKA_BROKERS", default_value = "127.0.0.1:9092")]
    pub brokers: String,
    /// Events topic (refused events go to `<topic>.dead-letter`).
    #[arg(long, env = "LAKE_KAFKA_TOPIC", default_value = "lake.events")]
    pub topic: String,
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Create the events topic and its dead-letter topic (existing topics are kept).
    Setup(StreamSetupArgs),
    /// Simulate shopper sessions and send their events, keyed by session.
    #[command(after_help = "Examples:\n  \
        lake stream produce --rate 500 --duration 120\n  \
        lake stream produce --clock simulated --duration 600 --inject abandon-spike:France:300:30 \\\n      \
        --ground-truth injections.json --log events.csv\n\n\
        Scenarios (START and SECONDS counted from the stream's first event):\n  \
        abandon-spike:PAYS:START:SECONDS   every cart of PAYS abandoned, three times as many carts\n  \
        traffic-drop:START:SECONDS         nine events in ten not sent\n  \
        price-anomaly:PAYS:START:SECONDS   purchases of PAYS at five times their price")]
    Produce(StreamProduceArgs),
    /// Consume the events as one member of a consumer group: event-time windows per (type,
    /// pays), anomaly detection, window metrics and alerts in MongoDB, offsets committed after
    /// the writes. Start several to share the partitions.
    Process(StreamProcessArgs),
}

#[derive(Debug, Args)]
pub struct StreamSetupArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Partitions of the events topic (processes of one group share them).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(i32).range(1..))]
    pub topic_partitions: i32,
    /// How long Kafka keeps events, in hours.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u64).range(1..))]
    pub retention_hours: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StreamClock {
    /// Event times are now: events go out at --rate per second.
    Wall,
    /// Event times run from --start at --rate per second, sent as fast as possible.
    Simulated,
}

#[derive(Debug, Args)]
pub struct StreamProduceArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Events per second (of event time).
    #[arg(long, default_value_t = 1000.0)]
    pub rate: f64,
    /// Seconds of event time to produce.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    #[arg(long, value_enum, default_value_t = StreamClock::Wall)]
    pub clock: StreamClock,
    /// First event time with --clock simulated (RFC 3339); default: now.
    #[arg(long)]
    pub start: Option<String>,
    /// Scenario to inject (repeatable); see below.
    #[arg(long = "inject")]
    pub injections: Vec<String>,
    /// Share of events sent late, each held back up to --late-max seconds of event time.
    #[arg(long, default_value_t = 0.0)]
    pub late_fraction: f64,
    #[arg(long, default_value_t = 30.0)]
    pub late_max: f64,
    /// Client ids are 1..=this (the generator's at SF 1 by default).
    #[arg(long, default_value_t = 100_000)]
    pub clients: i64,
    /// Seed of the simulation (one seed, one stream).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write the injected scenarios, with their event-time bounds, to this JSON file.
    #[arg(long)]
    pub ground_truth: Option<PathBuf>,
    /// Write every event sent to this CSV file (id, time, type, pays, amount).
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StreamProcessArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// Consumer group (processes of one group share the partitions).
    #[arg(long, default_value = "lake-stream")]
    pub group: String,
    /// Window size, in seconds of event time.
    #[arg(long, default_value_t = 10)]
    pub window: u32,
    /// Allowed lateness, in seconds: a window closes when the largest event time read passes
    /// its end by this much; later events are counted as late.
    #[arg(long, default_value_t = 5)]
    pub lateness: u32,
    /// z-score from which a window is anomalous.
    #[arg(long, default_value_t = 5.0)]
    pub threshold: f64,
    /// Fewest events a measure must rest on to be judged.
    #[arg(long, default_value_t = 20)]
    pub min_count: u64,
    /// A partition without new events for this many seconds closes all its windows.
    #[arg(long, default_value_t = 3.0)]
    pub idle_close: f64,
    /// Stop after this many seconds without any event (default: run until interrupted).
    #[arg(long)]
    pub stop_when_idle: Option<f64>,
    /// Serve Prometheus metrics at http://ADDR/metrics (events read, late events, dead
    /// letters, windows written, alerts by rule, and each owned partition's end, next offset
    /// and lag), e.g. 0.0.0.0:9464; port 0 picks a free one, printed at start. Default: off.
    #[arg(long, env = "LAKE_STREAM_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<std::net::SocketAddr>,
}

#[derive(Debug, Args)]
pub struct StreamBenchArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub mongo: MongoArgs,
    /// Events of the throughput part, sent as fast as the producer goes.
    #[arg(long, default_value_t = 2_000_000)]
    pub events: u64,
    /// Events per second of the latency part (wall clock).
    #[arg(long, default_value_t = 20_000.0)]
    pub rate: f64,
    /// Seconds of the latency part (the spike comes at two thirds: leave the detector its
    /// 10 windows of warm-up before it).
    #[arg(long, default_value_t = 180)]
    pub seconds: u32,
    /// Window size of the processor, in seconds.
    #[arg(long, default_value_t = 10)]
    pub window: u32,
    /// Allowed lateness of the processor, in seconds (0: a window closes as soon as its
    /// partition reads a later event).
    #[arg(long, default_value_t = 0)]
    pub lateness: u32,
    /// Repetitions of both parts (medians are reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Write stream-<date>-<label>.json and .md into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value = "stream")]
    pub label: String,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The other build: a lake root (local or s3://) or a folder of <layer>/<table>/ Parquet.
    pub other: String,
    /// Layers to compare (repeatable): silver, gold, ml.
    #[arg(long = "layer", default_values_t = ["silver".to_string(), "gold".to_string()])]
    pub layers: Vec<String>,
    /// Relative tolerance on floating-point cells.
    #[arg(long, default_value_t = lake_parity::RELATIVE_TOLERANCE)]
    pub tolerance: f64,
    /// Tables to leave out (repeatable), e.g. model_report (it holds timings).
    #[arg(long)]
    pub skip: Vec<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}
