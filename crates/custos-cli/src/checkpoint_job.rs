//! The `custos serve` job that signs audit checkpoints: every few seconds, for
//! each tenant whose log grew, one Ed25519-signed tree head. Each checkpoint
//! covers the batch of entries appended since the previous one.
//!
//! Several instances on one database may run it at once: a checkpoint of a size
//! already signed is not stored twice, and any of them is as good as another.

use std::sync::Arc;
use std::time::Duration;

use custos_core::clock::Clock;
use custos_crypto::KeyRing;
use custos_store::{MerkleStore, Store};

/// How often the log's growth is signed.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);

/// Runs forever; a failed pass is logged and retried at the next tick.
pub async fn sign_checkpoints<S: Store + MerkleStore>(
    store: Arc<S>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    loop {
        tick.tick().await;
        let (store, keys, clock) = (Arc::clone(&store), Arc::clone(&keys), Arc::clone(&clock));
        let pass = tokio::task::spawn_blocking(move || {
            checkpoint_pass(store.as_ref(), &keys, clock.as_ref())
        })
        .await;
        if let Ok(Err(e)) = pass {
            tracing::warn!(error = %e, "audit checkpoint pass failed; will retry");
        }
    }
}

/// One pass over every tenant; returns how many checkpoints it signed.
pub fn checkpoint_pass<S: Store + MerkleStore + ?Sized>(
    store: &S,
    keys: &KeyRing,
    clock: &dyn Clock,
) -> Result<usize, String> {
    let mut signed = 0;
    for t in store.tenants().map_err(|e| e.to_string())? {
        if custos_core::audit::checkpoint(store, keys, &t.id, clock.now())
            .map_err(|e| format!("tenant {}: {e}", t.id))?
            .is_some()
        {
            signed += 1;
        }
    }
    Ok(signed)
}
