//! One writer at a time: the writer's lease on a lake.
//!
//! Every command that writes the lake (ingest, a layer, the ML stage, `lake run`) first takes
//! the lease, an object `_lease.json` at the lake root naming its holder (a run id, host, pid,
//! command, start time) and when it expires. Taking it is a create-if-absent; while the holder
//! lives it renews the lease every third of its time to live with a compare-and-swap on the
//! version it last wrote; it removes the object when done. A second writer finds the object and
//! either waits for it (up to `--lease-wait`) or fails at once naming the holder. A holder that
//! died (`kill -9`, a lost host) stops renewing: once its lease has expired, the next writer
//! takes it over with a compare-and-swap on the version it read, so of two writers that find
//! the same expired lease only one gets it.
//!
//! What a writer may assume: while it holds the lease, no other writer publishes. Should it
//! lose the lease anyway (its renewals stalled past the time to live, e.g. a suspended
//! process), the publish itself still refuses to overwrite a pointer another writer moved
//! ([`crate::publish`]): a layer is never switched from under a run. Expiry compares the
//! holder's stamp with the taker's clock: hosts' clocks must agree within a fraction of the time
//! to live (default 60 s). Readers take no lease: they read a pointer, then the run it names,
//! which stays until two newer runs are published.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::error::{LakeError, Result};
use crate::storage::{Lake, ObjectVersion};

/// Key of the lease, relative to the lake root.
pub const LEASE_KEY: &str = "_lease.json";

/// How long a lease lasts without renewal, and how long a writer waits for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Time to live of the lease: renewed every third of it; a holder silent this long is
    /// taken to be dead.
    pub ttl: Duration,
    /// How long to wait for a lease held by another writer (zero: fail at once).
    pub wait: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(60),
            wait: Duration::ZERO,
        }
    }
}

/// Who holds a lease, as `_lease.json` records it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Holder {
    /// Unique per acquisition.
    pub id: String,
    pub command: String,
    pub host: String,
    pub pid: u32,
    /// UTC, ISO-8601 to the millisecond ([`crate::clock`]).
    pub started_at: String,
    pub renewed_at: String,
    pub expires_at: String,
}

impl Holder {
    /// Whether the lease has expired at `now`; a lease whose expiry cannot be read counts as
    /// expired (it can only be a damaged file).
    fn expired(&self, now: DateTime<Utc>) -> bool {
        DateTime::parse_from_rfc3339(&self.expires_at).map_or(true, |at| now >= at)
    }

    fn renewed(&self, ttl: Duration) -> Self {
        let now = Utc::now();
        Self {
            renewed_at: stamp(now),
            expires_at: stamp(now + ttl),
            ..self.clone()
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (run {}, pid {} on {}, started {}, lease expires {})",
            self.command, self.id, self.pid, self.host, self.started_at, self.expires_at,
        )
    }
}

/// How a lease was obtained.
#[derive(Debug, Clone, PartialEq)]
pub enum Obtained {
    /// The lake had no writer.
    Free,
    /// The previous holder's lease had expired: it died without releasing it.
    TakenOver(Holder),
}

/// A held lease, renewed in the background until [`Lease::release`] (or drop: then it simply
/// expires).
#[derive(Debug)]
pub struct Lease {
    lake: Lake,
    holder: Holder,
    obtained: Obtained,
    version: Arc<Mutex<ObjectVersion>>,
    lost: Arc<AtomicBool>,
    renewer: JoinHandle<()>,
}

impl Lease {
    /// Takes the lake's lease for `command`: at once when free or expired, else after waiting
    /// up to `settings.wait` (calling `waiting` once with the holder when it starts to wait),
    /// else [`LakeError::LeaseHeld`] naming the holder.
    pub async fn acquire(
        lake: &Lake,
        command: &str,
        settings: LeaseSettings,
        mut waiting: impl FnMut(&Holder),
    ) -> Result<Self> {
        let started_at = stamp(Utc::now());
        let mine = Holder {
            id: crate::publish::new_run_id(),
            command: command.to_string(),
            host: host_name(),
            pid: std::process::id(),
            renewed_at: started_at.clone(),
            expires_at: started_at.clone(),
            started_at,
        };
        let deadline = Instant::now() + settings.wait;
        let mut told = false;
        loop {
            let mine = mine.renewed(settings.ttl);
            if let Some(version) = lake
                .create_if_absent(LEASE_KEY, encode(lake, &mine)?)
                .await?
            {
                return Ok(Self::held(
                    lake,
                    mine,
                    Obtained::Free,
                    version,
                    settings.ttl,
                ));
            }
            let Some((bytes, version)) = lake.get_versioned(LEASE_KEY).await? else {
                continue; // released between our create and our read: try again
            };
            let other: Holder = decode(lake, &bytes)?;
            if other.expired(Utc::now()) {
                if let Some(version) = lake
                    .update_if_unchanged(LEASE_KEY, encode(lake, &mine)?, &version)
                    .await?
                {
                    let obtained = Obtained::TakenOver(other);
                    return Ok(Self::held(lake, mine, obtained, version, settings.ttl));
                }
                continue; // another writer took it over first: read who
            }
            if Instant::now() >= deadline {
                return Err(LakeError::LeaseHeld {
                    lake: lake.root().to_string(),
                    holder: other.to_string(),
                    waited: settings.wait,
                });
            }
            if !told {
                waiting(&other);
                told = true;
            }
            // Poll again when the holder may have released it, at most once a second; never
            // past the deadline.
            let pause =
                Duration::from_secs(1).min(deadline.saturating_duration_since(Instant::now()));
            tokio::time::sleep(pause).await;
        }
    }

    fn held(
        lake: &Lake,
        holder: Holder,
        obtained: Obtained,
        version: ObjectVersion,
        ttl: Duration,
    ) -> Self {
        let version = Arc::new(Mutex::new(version));
        let lost = Arc::new(AtomicBool::new(false));
        let renewer = tokio::spawn(renew(
            lake.clone(),
            holder.clone(),
            ttl,
            version.clone(),
            lost.clone(),
        ));
        Self {
            lake: lake.clone(),
            holder,
            obtained,
            version,
            lost,
            renewer,
        }
    }

    pub fn holder(&self) -> &Holder {
        &self.holder
    }

    pub fn obtained(&self) -> &Obtained {
        &self.obtained
    }

    /// Whether another writer took the lease over (this holder's renewals stalled past its
    /// time to live).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Stops renewing and removes the lease, unless another writer holds it now.
    pub async fn release(self) -> Result<()> {
        self.renewer.abort();
        let version = self.version.lock().await.clone();
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        // Only our own version is removed: first make it unusable to anyone holding an older
        // read (an expired copy), then delete it.
        let mut gone = self.holder.clone();
        gone.expires_at = stamp(Utc::now());
        if self
            .lake
            .update_if_unchanged(LEASE_KEY, encode(&self.lake, &gone)?, &version)
            .await?
            .is_some()
        {
            self.lake.delete(LEASE_KEY).await?;
        }
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Renews the lease every third of its time to live; marks it lost when another writer
/// replaced it. A failed renewal (the store briefly down) is retried at the next tick.
async fn renew(
    lake: Lake,
    holder: Holder,
    ttl: Duration,
    version: Arc<Mutex<ObjectVersion>>,
    lost: Arc<AtomicBool>,
) {
    let mut ticks = tokio::time::interval(ttl / 3);
    ticks.tick().await; // the first tick is immediate
    loop {
        ticks.tick().await;
        let renewed = holder.renewed(ttl);
        let Ok(bytes) = encode(&lake, &renewed) else {
            continue;
        };
        let mut current = version.lock().await;
        match lake.update_if_unchanged(LEASE_KEY, bytes, &current).await {
            Ok(Some(next)) => *current = next,
            Ok(None) => {
                log::warn!(
                    "the writer's lease on {} was taken over by another writer",
                    lake.root()
                );
                lost.store(true, Ordering::SeqCst);
                return;
            }
            Err(e) => log::warn!("could not renew the writer's lease: {e}"),
        }
    }
}

/// The holder of the lake's lease, if any (expired or not).
pub async fn holder(lake: &Lake) -> Result<Option<Holder>> {
    match lake.get_versioned(LEASE_KEY).await? {
        None => Ok(None),
        Some((bytes, _)) => decode(lake, &bytes).map(Some),
    }
}

fn encode(lake: &Lake, holder: &Holder) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(holder).map_err(|e| LakeError::BadManifest {
        location: lake.url(LEASE_KEY),
        reason: e.to_string(),
    })
}

fn decode(lake: &Lake, bytes: &[u8]) -> Result<Holder> {
    serde_json::from_slice(bytes).map_err(|e| LakeError::BadManifest {
        location: lake.url(LEASE_KEY),
        reason: format!("{e} (not a writer's lease: remove it if no writer is running)"),
    })
}

/// This machine's name, for the holder record.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local_lake(dir: &tempfile::TempDir) -> Lake {
        Lake::open(
            dir.path().to_str().expect("utf-8 path"),
            &crate::S3Options::default(),
        )
        .expect("opens")
    }

    const AT_ONCE: LeaseSettings = LeaseSettings {
        ttl: Duration::from_secs(60),
        wait: Duration::ZERO,
    };

    #[tokio::test]
    async fn a_second_writer_is_refused_with_the_holder_named_then_gets_it_once_released() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        let first = Lease::acquire(&lake, "lake run", AT_ONCE, |_| {})
            .await
            .expect("free");
        assert_eq!(first.obtained(), &Obtained::Free);

        let refused = Lease::acquire(&lake, "lake gold", AT_ONCE, |_| {})
            .await
            .expect_err("held");
        let text = refused.to_string();
        assert!(text.contains("lake run"), "{text}");
        assert!(text.contains(&first.holder().id), "{text}");
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );

        first.release().await.expect("release");
        assert_eq!(holder(&lake).await.expect("read"), None);
        let second = Lease::acquire(&lake, "lake gold", AT_ONCE, |_| {})
            .await
            .expect("free again");
        assert_eq!(second.obtained(), &Obtained::Free);
    }

    #[tokio::test]
    async fn an_expired_lease_is_taken_over_naming_the_dead_holder() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        // A holder that stopped renewing: its lease expired a second ago.
        let dead = Holder {
            id: "20261203T000000000Z-deadbeef".into(),
            command: "lake run".into(),
            host: "elsewhere".into(),
            pid: 4242,
            started_at: stamp(Utc::now() - chrono::Duration::seconds(120)),
            renewed_at: stamp(Utc::now() - chrono::Duration::seconds(61)),
            expires_at: stamp(Utc::now() - chrono::Duration::seconds(1)),
        };
        lake.create_if_absent(LEASE_KEY, encode(&lake, &dead).expect("json"))
            .await
            .expect("create")
            .expect("created");

        let taker = Lease::acquire(&lake, "lake silver", AT_ONCE, |_| {})
            .await
            .expect("expired: taken over");
        assert_eq!(taker.obtained(), &Obtained::TakenOver(dead));
        let now_held = holder(&lake).await.expect("read").expect("held");
        assert_eq!(now_held.id, taker.holder().id);
    }

    #[tokio::test]
    async fn a_waiting_writer_gets_the_lease_when_the_holder_releases_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        let first = Lease::acquire(&lake, "lake run", AT_ONCE, |_| {})
            .await
            .expect("free");
        let (told_tx, told_rx) = tokio::sync::oneshot::channel::<String>();
        let waiter = {
            let lake = lake.clone();
            tokio::spawn(async move {
                let mut told = Some(told_tx);
                let settings = LeaseSettings {
                    ttl: Duration::from_secs(60),
                    wait: Duration::from_secs(30),
                };
                Lease::acquire(&lake, "lake gold", settings, |holder| {
                    if let Some(tx) = told.take() {
                        let _ = tx.send(holder.id.clone());
                    }
                })
                .await
            })
        };
        // Release only once the second writer is known to wait.
        let waited_for = told_rx.await.expect("the waiter says whom it waits for");
        assert_eq!(waited_for, first.holder().id);
        first.release().await.expect("release");
        let second = waiter
            .await
            .expect("task")
            .expect("obtained after the release");
        assert_eq!(second.obtained(), &Obtained::Free);
    }

    #[tokio::test]
    async fn a_holder_whose_lease_was_replaced_learns_it_lost_it_and_leaves_it_alone() {
        let dir = tempfile::tempdir().expect("tmp");
        let lake = local_lake(&dir);
        let quick = LeaseSettings {
            ttl: Duration::from_millis(300),
            wait: Duration::ZERO,
        };
        let lease = Lease::acquire(&lake, "lake run", quick, |_| {})
            .await
            .expect("free");
        // Another writer replaces it, as one taking over an expired lease does.
        let mut other = lease.holder().clone();
        other.id = "20261203T000000000Z-0the0r00".into();
        loop {
            let (_, version) = lake
                .get_versioned(LEASE_KEY)
                .await
                .expect("read")
                .expect("held");
            let replaced = lake
                .update_if_unchanged(LEASE_KEY, encode(&lake, &other).expect("json"), &version)
                .await
                .expect("update");
            if replaced.is_some() {
                break; // else a renewal came in between: read again
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lease.is_lost() {
            assert!(Instant::now() < deadline, "the holder never noticed");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lease.release().await.expect("release");
        let now_held = holder(&lake).await.expect("read").expect("still held");
        assert_eq!(
            now_held.id, other.id,
            "the release removed the other writer's lease"
        );
    }
}
