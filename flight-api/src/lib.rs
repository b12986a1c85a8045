//! Serving the lake's Gold (ROAPI-style layout): [`store`] holds the interchangeable stores
//! behind one trait (the lake itself, or MongoDB loaded by [`mongo::load`]), [`api`] the HTTP handlers per family of endpoints over that trait,
//! [`server`] one module per transport, [`startup`] the wiring, [`config`] the flags, [`secret`]
//! the API key and token, [`metrics`] what `/metrics` tells operators.

pub mod api;
pub mod config;
pub mod error;
pub mod metrics;
pub mod mongo;
pub mod secret;
pub mod server;
pub mod startup;
pub mod store;

pub use api::AppState;
pub use config::ApiConfig;
pub use error::ApiError;
