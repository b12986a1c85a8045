//! The server's settings: flags, each with an environment variable.

use clap::Parser;
use lake_core::S3Options;

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
    pub flight_token: Option<String>,
    /// Require this key in the x-api-key header (except /health and /openapi.json); empty: none.
    #[arg(long, env = "LAKE_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
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
}

impl ApiConfig {
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
