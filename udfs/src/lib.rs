//! Rust UDFs for what SQL does badly in the Silver rules: dates and timestamps in several
//! formats, amounts written the French way, email validity, white-space normalisation and strict
//! identifiers.
//!
//! The same functions are registered on every hop that plans or runs a query (the `lake` client,
//! the scheduler, every executor): see [`register_all`].

#![warn(missing_docs)]

/// The UDFs as DataFusion scalar functions.
pub mod functions;
/// The parsing rules behind them, on plain strings.
pub mod parse;

pub use functions::{AMOUNT_PRECISION, AMOUNT_SCALE, Rule, all_udfs};

use datafusion::execution::FunctionRegistry;

/// Registers every lake UDF on a registry (a `SessionContext`, a `SessionState`, …).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> datafusion::common::Result<()> {
    for udf in all_udfs() {
        registry.register_udf(udf)?;
    }
    Ok(())
}
