//! A lake on a real S3 server (s3s-fs on loopback): wrong credentials or a stopped server give
//! a clear error naming the endpoint, and publish nothing.

mod common;

use common::{S3Server, env_refs, fails_with, free_port, ok, ok_with};

#[test]
fn s3_errors_name_the_endpoint_and_publish_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let s3 = S3Server::start(dir.path());
    let work = dir.path();
    ok(work, &["generate", "--scale", "0.01"]);
    let run = ["--lake", "s3://lake/errors", "run"];

    // Wrong secret key: refused by the server before any work.
    let mut wrong = s3.env();
    wrong[2].1 = "not-the-secret".into();
    let error = fails_with(work, &run, &env_refs(&wrong));
    assert!(error.contains(&s3.endpoint()), "{error}");
    assert!(
        error.contains("SignatureDoesNotMatch") || error.contains("403"),
        "{error}"
    );
    assert!(!s3.path("errors").exists(), "nothing written");

    // No server at the endpoint.
    let mut down = s3.env();
    down[0].1 = format!("http://127.0.0.1:{}", free_port());
    let error = fails_with(work, &run, &env_refs(&down));
    assert!(error.contains(&down[0].1), "{error}");
    assert!(
        error.contains("onnection refused") || error.contains("error sending request"),
        "{error}"
    );

    // A bucket that does not exist.
    let error = fails_with(
        work,
        &["--lake", "s3://no-such-bucket/x", "run"],
        &env_refs(&s3.env()),
    );
    assert!(error.contains("s3://no-such-bucket/x"), "{error}");
    assert!(error.contains(&s3.endpoint()), "{error}");

    // The right settings: the whole pipeline, standalone, on the S3 server.
    let out = ok_with(work, &run, &env_refs(&s3.env()));
    assert!(out.contains("== KPIs"), "{out}");
    assert!(s3.path("errors/silver/_current.json").is_file());
    assert!(s3.path("errors/gold/_current.json").is_file());
}
