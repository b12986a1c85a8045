//! The server's settings: flags, each with an environment variable.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use lake_core::S3Options;
use lake_core::memory::{MemoryLimit, MemorySettings};

use crate::secret::{self, Secret};
use crate::server::limits::QueryLimits;
use crate::server::tls::{TlsError, TlsIdentity};
use crate::store::lake::SessionLimits;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "lake-api",
    version,
    about = "Serves the published Gold of the lake over HTTP (JSON: KPIs, facts, analytics and ML \
             scores, with an OpenAPI document at /openapi.json) and over Arrow Flight SQL (SQL on \
             silver.* and gold.*, for ADBC and JDBC clients)",
    after_help = "Examples:\n  \
        lake-api --lake ./lake                      # the lake written by `lake run`, on :8080\n  \
        lake-api --lake s3://lake/prod --s3-endpoint http://127.0.0.1:9000 --api-key secret\n  \
        curl -s localhost:8080/kpis/globaux\n  \
        curl -s 'localhost:8080/achats?pays=France&debut=2025-06-01&limit=10'\n  \
        lake-api --tls-cert server.pem --tls-key server.key   # https:// and grpc+tls://\n  \
        JDBC: jdbc:arrow-flight-sql://127.0.0.1:50060?useEncryption=false"
)]
pub struct ApiConfig {
    /// Lake root whose published Gold is served: a local folder, or s3://bucket/prefix.
    #[arg(long, env = "LAKE_ROOT", default_value = "lake")]
    pub lake: String,
    /// Address and port to listen on (port 0: any free port, printed at start).
    #[arg(long, env = "LAKE_API_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Serve the HTTP API from MongoDB (as loaded by `lake mongo load`) instead of the lake's
    /// Parquet, e.g. mongodb://127.0.0.1:27017. Flight SQL always reads the lake.
    #[arg(long, env = "LAKE_MONGO_URL")]
    pub mongo_url: Option<String>,
    /// MongoDB database of the loaded collections.
    #[arg(long, env = "LAKE_MONGO_DB", default_value = "lake")]
    pub mongo_db: String,
    /// Address and port of the Arrow Flight SQL gateway (port 0: any free port; `off`: none).
    #[arg(long, env = "LAKE_FLIGHT_BIND", default_value = "127.0.0.1:50060")]
    pub flight_bind: String,
    /// Require this bearer token on every Flight SQL call (authorization: Bearer <token>).
    #[arg(long, env = "LAKE_FLIGHT_TOKEN", hide_env_values = true)]
    pub flight_token: Option<Secret>,
    /// Read the Flight SQL token from this file (its final line break dropped).
    #[arg(long, env = "LAKE_FLIGHT_TOKEN_FILE", conflicts_with = "flight_token")]
    pub flight_token_file: Option<PathBuf>,
    /// Require this key in the x-api-key header (except /health and /openapi.json); empty: none.
    #[arg(long, env = "LAKE_API_KEY", hide_env_values = true)]
    pub api_key: Option<Secret>,
    /// Read the API key from this file (its final line break dropped).
    #[arg(long, env = "LAKE_API_KEY_FILE", conflicts_with = "api_key")]
    pub api_key_file: Option<PathBuf>,
    /// Serve HTTPS and Flight SQL over TLS with this certificate chain (PEM, leaf first);
    /// needs --tls-key. Clients then use https:// and grpc+tls:// (JDBC: useEncryption=true).
    #[arg(long, env = "LAKE_API_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "LAKE_API_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Origin allowed by CORS (repeatable; `*` for any); none by default.
    #[arg(
        long = "cors-origin",
        env = "LAKE_API_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "LAKE_API_WORKERS")]
    pub workers: Option<usize>,
    /// S3-compatible endpoint (default: AWS_ENDPOINT).
    #[arg(long, env = "LAKE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// S3 access key (default: AWS_ACCESS_KEY_ID).
    #[arg(long, env = "LAKE_S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// S3 secret key (default: AWS_SECRET_ACCESS_KEY).
    #[arg(long, env = "LAKE_S3_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub s3_secret_access_key: Option<String>,
    /// S3 region (default: AWS_DEFAULT_REGION, else us-east-1).
    #[arg(long, env = "LAKE_S3_REGION")]
    pub s3_region: Option<String>,
    /// Allow plain HTTP to the S3 endpoint (implied by an http:// endpoint).
    #[arg(long, env = "LAKE_S3_ALLOW_HTTP")]
    pub s3_allow_http: bool,

    /// Memory pool of Flight SQL's queries, and a second one of this size for the HTTP API's
    /// (e.g. 512MiB, 2GiB; 0: unbounded). Past its share a sort or an aggregate spills to
    /// --spill-dir; a query whose joins still cannot fit is refused (RESOURCE_EXHAUSTED).
    #[arg(
        long,
        env = "LAKE_API_QUERY_MEMORY",
        value_name = "SIZE",
        default_value_t = MemoryLimit::Bytes(1 << 30)
    )]
    pub query_memory: MemoryLimit,
    /// Folder for the spill files of the queries (default: the system's temporary directory).
    #[arg(long, env = "LAKE_API_SPILL_DIR")]
    pub spill_dir: Option<PathBuf>,
    /// Seconds a query may run before it is cancelled (Flight SQL: DEADLINE_EXCEEDED; HTTP:
    /// 500); 0: no limit.
    #[arg(
        long,
        env = "LAKE_API_QUERY_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 300
    )]
    pub query_timeout: u64,
    /// Flight SQL queries running at once; the next ones wait in line.
    #[arg(long, env = "LAKE_API_MAX_QUERIES", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_queries: u32,
    /// Seconds a Flight SQL query waits for a slot before it is refused (RESOURCE_EXHAUSTED).
    #[arg(
        long,
        env = "LAKE_API_QUEUE_TIMEOUT",
        value_name = "SECONDS",
        default_value_t = 30
    )]
    pub queue_timeout: u64,
    /// Rows a Flight SQL result may have: past them the stream ends with RESOURCE_EXHAUSTED
    /// (add a LIMIT); 0: no limit. gold.fact_achats has about a million rows per scale factor.
    #[arg(
        long,
        env = "LAKE_API_MAX_RESULT_ROWS",
        value_name = "ROWS",
        default_value_t = 25_000_000
    )]
    pub max_result_rows: u64,
}

impl ApiConfig {
    /// The HTTP API key, from `--api-key` or `--api-key-file`.
    pub fn api_key(&self) -> Result<Option<Secret>, String> {
        secret::resolve(
            self.api_key.as_ref(),
            self.api_key_file.as_deref(),
            "--api-key",
        )
    }

    /// The Flight SQL token, from `--flight-token` or `--flight-token-file`.
    pub fn flight_token(&self) -> Result<Option<Secret>, String> {
        secret::resolve(
            self.flight_token.as_ref(),
            self.flight_token_file.as_deref(),
            "--flight-token",
        )
    }

    /// The servers' TLS identity, when --tls-cert and --tls-key are given.
    pub fn tls(&self) -> Result<Option<TlsIdentity>, TlsError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => TlsIdentity::from_pem_files(cert, key).map(Some),
            _ => Ok(None),
        }
    }

    fn query_timeout(&self) -> Option<Duration> {
        (self.query_timeout > 0).then(|| Duration::from_secs(self.query_timeout))
    }

    /// What bounds the store's sessions.
    pub fn session_limits(&self) -> SessionLimits {
        SessionLimits {
            memory: MemorySettings {
                limit: self.query_memory,
                spill_dir: self.spill_dir.clone(),
            },
            query_timeout: self.query_timeout(),
        }
    }

    /// What bounds each Flight SQL query.
    pub fn query_limits(&self) -> QueryLimits {
        QueryLimits {
            max_queries: self.max_queries as usize,
            queue_timeout: Duration::from_secs(self.queue_timeout),
            query_timeout: self.query_timeout(),
            max_result_rows: (self.max_result_rows > 0).then_some(self.max_result_rows),
        }
    }

    pub fn s3(&self) -> S3Options {
        S3Options {
            endpoint: self.s3_endpoint.clone(),
            access_key_id: self.s3_access_key_id.clone(),
            secret_access_key: self.s3_secret_access_key.clone(),
            region: self.s3_region.clone(),
            allow_http: self.s3_allow_http,
        }
    }
}
