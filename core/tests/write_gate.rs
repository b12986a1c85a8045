//! The write gate of an interrupted command (`lake_core::write_gate`), in a process of its own:
//! closing it is for good and would stop every other test's writes.

use std::time::{Duration, Instant};

use lake_core::write_gate::{enter, stop};

#[tokio::test]
async fn stop_waits_for_the_writes_in_flight_then_refuses_new_ones() {
    let first = enter().expect("open");
    let second = enter().expect("open");
    let stopping = tokio::spawn(stop(Duration::from_secs(30)));
    // The gate closes at once, while the two writes are still in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while enter().is_ok() {
        assert!(Instant::now() < deadline, "never closed");
        tokio::task::yield_now().await;
    }
    drop(first);
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    assert!(!stopping.is_finished(), "returned with a write in flight");
    drop(second);
    assert!(stopping.await.expect("stop task"), "all writes finished");
    // The refused writes let go of their count: nothing is in flight.
    assert!(stop(Duration::from_millis(1)).await, "nothing in flight");
}
