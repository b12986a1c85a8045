//! `lake`: the command-line tool of the e-commerce lake. See `lake --help`.

mod args;
mod cluster;
mod commands;
mod event_log;
mod exit;
mod lake_access;
mod output;
mod progress;
mod report;
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
    let detailed = cli.lake.detailed_exit_codes;
    if let Some((name, format)) = cli.command.report() {
        report::begin(name, format);
    }
    let result = commands::dispatch(cli).await;
    let ended = match &result {
        Ok(exit::Outcome::Done) => exit::Exit::Success,
        Ok(exit::Outcome::NothingToDo) => exit::Exit::NothingToDo,
        Err(e) => exit::Exit::of_error(e),
    };
    match &result {
        Ok(_) => {}
        // Its message says what was cleaned up; it is not an error of the command.
        Err(e) if ended == exit::Exit::Interrupted => eprintln!("{e}"),
        Err(e) => print_error(e),
    }
    let code = match ended {
        exit::Exit::NothingToDo if !detailed => 0,
        ended => ended.code(),
    };
    report::finish(ended, code, result.as_ref().err());
    std::process::ExitCode::from(code)
}

/// The error and its causes, each once.
fn print_error(e: &anyhow::Error) {
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
}
