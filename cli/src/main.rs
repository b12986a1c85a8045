//! `lake`: the command-line tool of the e-commerce lake. See `lake --help`.

mod args;
mod commands;
mod output;
mod progress;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(
        "warn,ballista_scheduler::display=off,ballista_core::execution_plans::sort_shuffle=error",
    ))
    .init();
    let cli = args::Cli::parse();
    match commands::dispatch(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            std::process::ExitCode::FAILURE
        }
    }
}
