//! TLS on both servers, with a self-signed certificate the test makes (rcgen) for `localhost`
//! and 127.0.0.1: clients that trust it get the golden answers over HTTPS and Flight SQL over
//! TLS; clients that do not trust it, or that speak plain text to the TLS ports, are refused.
//! Expected figures are worked out from the golden fixtures (see jdbc.rs): 12 purchases in
//! `gold.fact_achats`.

mod common;

use std::path::Path;
use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use common::{Api, golden_lake};
use futures::TryStreamExt;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

/// A self-signed certificate for `localhost` and 127.0.0.1, written as PEM files; returns
/// (certificate path, key path, certificate PEM).
fn self_signed(dir: &Path) -> (String, String, String) {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let made = rcgen::generate_simple_self_signed(names).expect("a self-signed certificate");
    let cert_pem = made.cert.pem();
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    std::fs::write(&cert, &cert_pem).expect("write the certificate");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write the key");
    (
        cert.to_string_lossy().into_owned(),
        key.to_string_lossy().into_owned(),
        cert_pem,
    )
}

async fn served_with_tls(dir: &Path) -> (Api, String) {
    let lake = golden_lake(dir).await;
    let (cert, key, cert_pem) = self_signed(dir);
    let api = Api::start(&lake, &["--tls-cert", &cert, "--tls-key", &key]);
    (api, cert_pem)
}

/// The Flight SQL endpoint as tonic dials it, with `scheme`.
fn dial(api: &Api, scheme: &str) -> String {
    let address = api
        .flight
        .split_once("://")
        .map(|(_, address)| address)
        .expect("a URL");
    format!("{scheme}://{address}")
}

async fn count_purchases(channel: Channel) -> Result<usize, String> {
    let mut client = FlightSqlServiceClient::new(channel);
    let info = client
        .execute("SELECT * FROM gold.fact_achats".to_string(), None)
        .await
        .map_err(|e| e.to_string())?;
    let ticket = info.endpoint[0].ticket.clone().expect("a ticket");
    let batches: Vec<_> = client
        .do_get(ticket)
        .await
        .map_err(|e| e.to_string())?
        .try_collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(batches.iter().map(|b| b.num_rows()).sum())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_and_flight_sql_over_tls_serve_clients_that_trust_the_certificate() {
    let dir = tempfile::tempdir().expect("tmp");
    let (api, cert_pem) = served_with_tls(dir.path()).await;
    assert!(api.base.starts_with("https://"), "{}", api.base);
    assert!(api.flight.starts_with("grpc+tls://"), "{}", api.flight);

    // HTTPS, trusting the certificate.
    let trusting = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(cert_pem.as_bytes()).expect("the certificate"),
        )
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    let url = format!(
        "{}/kpis/globaux",
        api.base.replace("127.0.0.1", "localhost")
    );
    let answer = trusting.get(&url).send().await.expect("HTTPS request");
    assert_eq!(answer.status(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&answer.bytes().await.expect("body")).expect("JSON");
    assert_eq!(body["nb_achats"], 12, "{body}");

    // Flight SQL over TLS, trusting the certificate.
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&cert_pem))
        .domain_name("localhost");
    let channel = Channel::from_shared(dial(&api, "https"))
        .expect("endpoint")
        .tls_config(tls)
        .expect("TLS settings")
        .connect()
        .await
        .expect("TLS connection to Flight SQL");
    assert_eq!(count_purchases(channel).await, Ok(12));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_the_certificate_or_without_tls_are_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let (api, _) = served_with_tls(dir.path()).await;

    // HTTPS with the system's roots only: the self-signed certificate is not trusted.
    let untrusting = common::client();
    let refused = untrusting
        .get(format!("{}/kpis/globaux", api.base))
        .send()
        .await
        .expect_err("an untrusted certificate");
    assert!(refused.is_connect(), "{refused:?}");
    // Plain HTTP to the TLS port.
    let plain = untrusting
        .get(format!(
            "{}/kpis/globaux",
            api.base.replacen("https", "http", 1)
        ))
        .send()
        .await;
    assert!(
        plain.is_err() || plain.as_ref().is_ok_and(|r| r.status() != 200),
        "plain HTTP was served: {plain:?}"
    );

    // Flight SQL over TLS without the certificate: the handshake fails.
    let no_roots = ClientTlsConfig::new().domain_name("localhost");
    let handshake = match Channel::from_shared(dial(&api, "https"))
        .expect("endpoint")
        .tls_config(no_roots)
        .expect("TLS settings")
        .connect()
        .await
    {
        Ok(channel) => count_purchases(channel).await.map(|_| ()),
        Err(e) => Err(e.to_string()),
    };
    assert!(handshake.is_err(), "an untrusted certificate was accepted");

    // Flight SQL in plain text to the TLS port.
    let plain = match Channel::from_shared(dial(&api, "http"))
        .expect("endpoint")
        .connect()
        .await
    {
        Ok(channel) => count_purchases(channel).await.map(|_| ()),
        Err(e) => Err(e.to_string()),
    };
    assert!(plain.is_err(), "plain-text Flight SQL was served");
}
