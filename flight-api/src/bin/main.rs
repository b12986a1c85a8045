//! `lake-api`: the HTTP API and the Flight SQL gateway over the published Gold.

use anyhow::Context;
use clap::Parser;
use flight_api::ApiConfig;

// Many small allocations per request (JSON rows) on a few threads: glibc's allocator spent a
// third of the CPU on /achats at 2 000 requests/s, mostly waiting on its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let config = ApiConfig::parse();
    let running = flight_api::startup::start(&config).await?;
    // These lines are read by scripts and tests: keep their format.
    let (http, grpc) = if config.tls_cert.is_some() {
        ("https", "grpc+tls")
    } else {
        ("http", "grpc")
    };
    println!("listening on {http}://{}", running.http_address);
    if let Some((_, address)) = &running.flight {
        println!("flight sql on {grpc}://{address}");
    }
    log::info!(
        "serving the published layers of {} (OpenAPI at /openapi.json)",
        config.lake
    );
    match running.flight {
        None => running.http.await.context("the HTTP server stopped")?,
        Some((flight, _)) => {
            tokio::select! {
                http = running.http => http.context("the HTTP server stopped")?,
                flight = flight => flight
                    .context("the Flight SQL task failed")?
                    .context("the Flight SQL server stopped")?,
            }
        }
    }
    Ok(())
}
