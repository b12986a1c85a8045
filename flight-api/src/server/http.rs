//! The HTTP server: routes, API-key check, CORS, request logging and response compression.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Instant;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Compress, Logger, Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};

use crate::api::{self, AppState};
use crate::error::ApiError;
use crate::metrics::GatewayMetrics;
use crate::secret::Secret;
use crate::server::tls::TlsIdentity;
use crate::store::lake::LakeStore;

/// Paths served without the API key: probes, the API's description, and the metrics (counts
/// and latencies only, no data; scrapers rarely send custom headers).
const OPEN_PATHS: [&str; 3] = ["/health", "/openapi.json", "/metrics"];

#[derive(Clone, Default)]
pub struct HttpOptions {
    pub api_key: Option<Secret>,
    pub cors_origins: Vec<String>,
    pub workers: Option<usize>,
    /// Counted requests and `/metrics`; none: neither.
    pub metrics: Option<Metrics>,
}

/// What `/metrics` reports: the process's counters, and the versions the lake store serves.
#[derive(Clone)]
pub struct Metrics {
    pub gateway: Arc<GatewayMetrics>,
    pub served: Arc<LakeStore>,
}

/// Counts every answer (errors included) by route pattern, method and status, with its time.
async fn count_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let answer = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &answer {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        metrics.gateway.observe_http(
            &route,
            &method,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    answer
}

/// `GET /metrics`: Prometheus's text format.
async fn metrics_text(metrics: web::Data<Metrics>) -> Result<HttpResponse, ApiError> {
    match metrics.served.current().await {
        Ok(version) => metrics.gateway.set_served(&version.runs()),
        Err(_) => metrics.gateway.set_served(&[]),
    }
    let (text, content_type) = metrics
        .gateway
        .render()
        .map_err(|e| ApiError::Internal(format!("cannot render the metrics: {e}")))?;
    Ok(HttpResponse::Ok().content_type(content_type).body(text))
}

fn cors(origins: &[String]) -> Cors {
    let base = Cors::default()
        .allowed_methods(["GET"])
        .allow_any_header()
        .max_age(3600);
    if origins.iter().any(|o| o == "*") {
        base.allow_any_origin()
    } else {
        origins
            .iter()
            .fold(base, |cors, origin| cors.allowed_origin(origin))
    }
}

async fn check_key(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let expected = req
        .app_data::<web::Data<Option<Secret>>>()
        .and_then(|k| k.as_ref().as_ref().cloned());
    if let Some(expected) = expected
        && !OPEN_PATHS.contains(&req.path())
    {
        let given = req.headers().get("x-api-key").and_then(|v| v.to_str().ok());
        if !given.is_some_and(|given| expected.matches(given)) {
            return Err(ApiError::Unauthorized.into());
        }
    }
    next.call(req).await
}

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound(
        "no such endpoint: see /openapi.json".into(),
    ))
}

/// Binds the server on an open listener (so tests can pick a free port), with TLS when an
/// identity is given, and returns it unstarted.
pub fn serve(
    listener: TcpListener,
    state: AppState,
    options: HttpOptions,
    tls: Option<&TlsIdentity>,
) -> std::io::Result<Server> {
    let catalogue = state.catalogue;
    let state = web::Data::new(state);
    let key = web::Data::new(options.api_key.clone());
    let origins = options.cors_origins.clone();
    let metrics = options.metrics.clone().map(web::Data::new);
    let mut server = HttpServer::new(move || {
        let mut app = App::new();
        if let Some(metrics) = &metrics {
            app = app
                .app_data(metrics.clone())
                .route("/metrics", web::get().to(metrics_text));
        }
        app.app_data(state.clone())
            .app_data(key.clone())
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|e, _| ApiError::bad("query", e.to_string()).into()),
            )
            .app_data(
                web::PathConfig::default()
                    .error_handler(|e, _| ApiError::bad("path", e.to_string()).into()),
            )
            .wrap(from_fn(check_key))
            .wrap(cors(&origins))
            .wrap(Compress::default())
            .wrap(Logger::new("%a \"%r\" %s %b %Dms"))
            .wrap(from_fn(count_request))
            .configure(|config| api::routes(config, catalogue))
            .default_service(web::to(not_found))
    })
    // A compressed body goes out in several writes; with Nagle's algorithm on, the last one
    // waits for the client's delayed ACK (40 ms on Linux).
    .tcp_nodelay(true);
    server = match tls {
        Some(identity) => {
            let config = identity.rustls_config().map_err(std::io::Error::other)?;
            server.listen_rustls_0_23(listener, config)?
        }
        None => server.listen(listener)?,
    };
    if let Some(workers) = options.workers {
        server = server.workers(workers.max(1));
    }
    Ok(server.run())
}
