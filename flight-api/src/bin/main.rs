//! `lake-api`: the HTTP API over the published Gold.

use clap::Parser;
use lake_api::ApiConfig;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let config = ApiConfig::parse();
    let (server, address) = lake_api::startup::start(&config).await?;
    log::info!(
        "lake-api serving the Gold of {} on http://{address} (OpenAPI: /openapi.json)",
        config.lake
    );
    println!("listening on http://{address}");
    server.await?;
    Ok(())
}
