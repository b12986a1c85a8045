//! One module per transport: [`http`] (actix-web). Arrow Flight SQL comes beside it.

pub mod http;
