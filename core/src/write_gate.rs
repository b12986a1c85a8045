//! Stopping this process's table writes when a command is interrupted.
//!
//! On Ballista standalone and DataFusion alone, the tasks that write a run's files run in the
//! `lake` process itself, on their own tokio tasks: when Ctrl-C stops the command, they go on
//! writing, and a task finishing a file after the unfinished run's folder was removed would
//! create that folder again (object stores create parents on put). So every write into the
//! object store passes this gate ([`enter`]), and an interrupted command closes it ([`stop`]):
//! writes not yet started are refused, and `stop` returns once the writes in flight are done, so
//! that what it removes next stays removed.
//!
//! On a cluster the writers are the executors' processes, stopped by cancelling their jobs.
//!
//! Closing the gate is for good and process-wide: its test (`tests/write_gate.rs`) runs in a
//! process of its own.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

static STOPPED: AtomicBool = AtomicBool::new(false);
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
static IDLE: Notify = Notify::const_new();

/// A write in flight; the gate waits for it to be dropped.
#[derive(Debug)]
pub struct Pass(());

impl Drop for Pass {
    fn drop(&mut self) {
        if IN_FLIGHT.fetch_sub(1, Ordering::SeqCst) == 1 {
            IDLE.notify_waiters();
        }
    }
}

/// The gate is closed: the command was interrupted.
#[derive(Debug, thiserror::Error)]
#[error("the command was interrupted: no more files are written")]
pub struct Stopped;

/// Lets one write through, unless the gate was closed. Hold the pass while writing.
pub fn enter() -> Result<Pass, Stopped> {
    // Counted before the check, so that `stop` either sees this write or this write sees `stop`.
    IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
    let pass = Pass(());
    if STOPPED.load(Ordering::SeqCst) {
        return Err(Stopped);
    }
    Ok(pass)
}

/// Closes the gate and waits, at most `timeout`, for the writes in flight to finish. Returns
/// whether they did.
pub async fn stop(timeout: Duration) -> bool {
    STOPPED.store(true, Ordering::SeqCst);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let idle = IDLE.notified();
        tokio::pin!(idle);
        // Registered before the check: a last pass dropped in between still wakes us.
        idle.as_mut().enable();
        if IN_FLIGHT.load(Ordering::SeqCst) == 0 {
            return true;
        }
        if tokio::time::timeout_at(deadline, idle).await.is_err() {
            return IN_FLIGHT.load(Ordering::SeqCst) == 0;
        }
    }
}
