//! Wiring: the store chosen from the configuration, then the servers over it.

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use anyhow::{Context, Result};
use lake_core::Lake;

use crate::api::AppState;
use crate::config::ApiConfig;
use crate::metrics::GatewayMetrics;
use crate::server::flight_sql::{self, FlightSqlGateway};
use crate::server::http::{self, HttpOptions, Metrics};
use crate::server::tls::TlsIdentity;
use crate::store::GoldStore;
use crate::store::lake::LakeStore;
use crate::store::mongo::MongoStore;

/// The running servers and where they listen.
pub struct Running {
    pub http: actix_web::dev::Server,
    pub http_address: SocketAddr,
    /// The Flight SQL gateway, unless `--flight-bind off`.
    pub flight: Option<(
        tokio::task::JoinHandle<Result<(), tonic::transport::Error>>,
        SocketAddr,
    )>,
}

/// Starts the HTTP server (over MongoDB when a URL is given, else the lake's published layers)
/// and the Flight SQL gateway (over the lake).
pub async fn start(config: &ApiConfig) -> Result<Running> {
    let lake = Lake::open(&config.lake, &config.s3())
        .with_context(|| format!("cannot open the lake {}", config.lake))?;
    let store = Arc::new(LakeStore::new(lake, &config.session_limits())?);

    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let http_address = listener.local_addr()?;
    let metrics = Arc::new(GatewayMetrics::new().context("cannot register the metrics")?);
    let options = HttpOptions {
        api_key: config.api_key().map_err(anyhow::Error::msg)?,
        cors_origins: config.cors_origins.clone(),
        workers: config.workers,
        metrics: Some(Metrics {
            gateway: metrics.clone(),
            served: store.clone(),
        }),
    };
    let (http_store, live): (Arc<dyn GoldStore>, _) = match &config.mongo_url {
        Some(url) if !url.is_empty() => {
            let db = crate::mongo::connect(url, &config.mongo_db)
                .await
                .with_context(|| format!("invalid MongoDB URL {url}"))?;
            (Arc::new(MongoStore::new(db.clone())), Some(db))
        }
        _ => (store.clone(), None),
    };
    let catalogue = lake_core::serving::ServingCatalogue::embedded()
        .context("cannot read the serving catalogue of the embedded SQL project")?;
    let state = AppState {
        store: http_store,
        live,
        catalogue,
    };
    let tls = config.tls()?;
    let http = http::serve(listener, state, options, tls.as_ref())?;

    let flight = if config.flight_bind == "off" {
        None
    } else {
        let listener = tokio::net::TcpListener::bind(&config.flight_bind)
            .await
            .with_context(|| format!("cannot listen on {} (Flight SQL)", config.flight_bind))?;
        let address = listener.local_addr()?;
        let token = config.flight_token().map_err(anyhow::Error::msg)?;
        let gateway = FlightSqlGateway::new(store, token, config.query_limits(), metrics)
            .context("cannot describe the Flight SQL server")?;
        let tls = tls.as_ref().map(TlsIdentity::tonic_config);
        let task = tokio::spawn(flight_sql::serve(listener, gateway, tls));
        Some((task, address))
    };
    Ok(Running {
        http,
        http_address,
        flight,
    })
}
