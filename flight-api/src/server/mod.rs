//! One module per transport: [`http`] (actix-web, JSON) and [`flight_sql`] (Arrow Flight SQL,
//! tonic), both over the same store; [`prepared`] (Flight SQL's statement handles) and
//! [`limits`] (what one Flight SQL query may take) and [`plain_types`] (the Arrow types its
//! clients can read) serve the latter; [`tls`] serves both.

pub mod flight_sql;
pub mod http;
pub mod limits;
pub mod plain_types;
pub mod prepared;
pub mod tls;
