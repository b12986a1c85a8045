//! `lake sql`: a query over every published layer.

use anyhow::{Context, Result};

use crate::args::{LakeArgs, SqlArgs};
use crate::exit::usage;
use crate::lake_access::open;
use crate::output::print_batches;

pub(crate) async fn sql(lake: &LakeArgs, args: &SqlArgs) -> Result<()> {
    let query = match (&args.query, &args.file) {
        (Some(q), _) => q.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        (None, None) => usage!("give a query or -f FILE"),
    };
    let session = open(lake).await?;
    let batches = session.query(&query).await?;
    print_batches(&batches, args.format)?;
    let spilled = session.spilled();
    if spilled.files > 0 {
        // On stderr: stdout holds the result alone, for scripts.
        eprintln!(
            "lake sql: spilled {spilled} to disk (the memory limit, --memory-limit, was reached)"
        );
    }
    Ok(())
}
