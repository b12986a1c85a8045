//! Wiring: the store chosen from the configuration, then the servers over it.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::{Context, Result};
use lake_core::Lake;

use crate::api::AppState;
use crate::config::ApiConfig;
use crate::server::http::{self, HttpOptions};
use crate::store::GoldStore;
use crate::store::lake::LakeStore;

/// The store the configuration names: the lake's Gold read directly (the embedded default).
pub async fn store(config: &ApiConfig) -> Result<Arc<dyn GoldStore>> {
    let lake = Lake::open(&config.lake, &config.s3())
        .with_context(|| format!("cannot open the lake {}", config.lake))?;
    Ok(Arc::new(LakeStore::new(lake)))
}

/// Starts the HTTP server on `config.bind`; returns it running, with the address it listens on.
pub async fn start(config: &ApiConfig) -> Result<(actix_web::dev::Server, std::net::SocketAddr)> {
    let store = store(config).await?;
    let listener = TcpListener::bind(&config.bind)
        .with_context(|| format!("cannot listen on {}", config.bind))?;
    let address = listener.local_addr()?;
    let options = HttpOptions {
        api_key: config.api_key.clone().filter(|k| !k.is_empty()),
        cors_origins: config.cors_origins.clone(),
        workers: config.workers,
    };
    let server = http::serve(listener, AppState { store }, options)?;
    Ok((server, address))
}
