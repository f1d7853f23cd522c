//! The `custos serve` job that runs the retention sweep every minute, for every
//! tenant, under the `retention` lease: of several instances sharing a database,
//! one sweeps per pass. A pass that dies midway loses nothing (each batch commits
//! on its own) and the lease expires, so another instance takes over.

use std::sync::Arc;
use std::time::Duration;

use custos_core::clock::Clock;
use custos_crypto::KeyRing;
use custos_store::{LeaseStore, RetentionStore, Store, Uuid};

/// The lease every instance's retention job (and `custos sweep`) claims.
pub const RETENTION_JOB: &str = "retention";
/// Longer than a pass takes; released at its end.
pub const RETENTION_LEASE: Duration = Duration::from_secs(300);
/// How often the sweep runs.
pub const RETENTION_INTERVAL: Duration = Duration::from_secs(60);

/// Runs forever; a failed pass is logged and retried at the next tick.
pub async fn sweep_retention<S: Store + RetentionStore + LeaseStore>(
    store: Arc<S>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
) {
    let holder: Arc<str> = Uuid::new_v4().to_string().into();
    let mut tick = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        tick.tick().await;
        let (store, keys, clock) = (Arc::clone(&store), Arc::clone(&keys), Arc::clone(&clock));
        let holder = Arc::clone(&holder);
        let pass = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let claimed = store
                .try_claim(RETENTION_JOB, &holder, clock.now(), RETENTION_LEASE)
                .map_err(|e| e.to_string())?;
            if !claimed {
                return Ok(());
            }
            let result = retention_pass(store.as_ref(), &keys, clock.as_ref());
            let released = store
                .release(RETENTION_JOB, &holder)
                .map_err(|e| e.to_string());
            result.and(released)
        })
        .await;
        if let Ok(Err(e)) = pass {
            tracing::warn!(error = %e, "retention sweep pass failed; will retry");
        }
    }
}

/// One sweep of every tenant that has a policy in force.
pub fn retention_pass<S: Store + RetentionStore + ?Sized>(
    store: &S,
    keys: &KeyRing,
    clock: &dyn Clock,
) -> Result<(), String> {
    for t in store.tenants().map_err(|e| e.to_string())? {
        let now = clock.now();
        match custos_core::retention::sweep(
            store,
            keys,
            &t.id,
            now,
            custos_core::retention::DEFAULT_BATCH,
            false,
        ) {
            Ok(r) if r.due > 0 => tracing::info!(
                tenant = %t.id,
                deleted = r.deleted,
                anonymised = r.anonymised,
                isolated = r.isolated,
                skipped = r.skipped_held,
                "retention sweep"
            ),
            Ok(_) | Err(custos_core::VaultError::NoPolicy) => {}
            Err(e) => return Err(format!("tenant {}: {e}", t.id)),
        }
    }
    Ok(())
}
