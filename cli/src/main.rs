//! `lake`: the command-line tool of the e-commerce lake. See `lake --help`.

mod args;
mod cluster;
mod commands;
mod event_log;
mod lake_access;
mod output;
mod progress;
mod scheduler_api;

use clap::Parser;

// mimalloc, not glibc's allocator: DataFusion's operators allocate and free many short-lived
// buffers from every worker thread, and glibc's per-thread arenas kept freed memory mapped
// (the README's "Memory" notes give the measured difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // Quiet by default: the scheduler's stage display, the sort shuffle's chatter, and the
    // warning that a stage has no operator metrics (our executors report none on purpose:
    // lake_core::execution_engine).
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(
        "warn,ballista_scheduler::display=off,ballista_core::execution_plans::sort_shuffle=error,\
         ballista_scheduler::state::execution_stage=error",
    ))
    .format_timestamp_millis()
    .init();
    let cli = args::Cli::parse();
    match commands::dispatch(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<commands::Interrupted>().is_some() => {
            eprintln!("{e}");
            // 128 + SIGINT, as shells report a command stopped by Ctrl-C.
            std::process::ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e}");
            // Errors that already quote their cause would print it twice: skip those repeats.
            let mut shown = e.to_string();
            for cause in e.chain().skip(1) {
                let text = cause.to_string();
                if !shown.contains(&text) {
                    eprintln!("  caused by: {text}");
                    shown = text;
                }
            }
            std::process::ExitCode::FAILURE
        }
    }
}
