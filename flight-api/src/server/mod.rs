//! One module per transport: [`http`] (actix-web, JSON) and [`flight_sql`] (Arrow Flight SQL,
//! tonic), both over the same store.

pub mod flight_sql;
pub mod http;
pub mod prepared;
