//! The `custos serve` job that signs audit checkpoints: every few seconds, for
//! each tenant whose log grew, one Ed25519-signed tree head. Each checkpoint
//! covers the batch of entries appended since the previous one, and goes to the
//! data directory's checkpoint file and the witness too
//! (`crate::external_checkpoints::publish`, the pass every writing command runs).
//!
//! Several instances on one database may run it at once: a checkpoint of a size
//! already signed is not stored twice, and any of them is as good as another.

use std::sync::Arc;
use std::time::Duration;

use custos_core::clock::Clock;
use custos_crypto::KeyRing;
use custos_store::{MerkleStore, Store};

use std::path::PathBuf;

/// How often the log's growth is signed.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(5);

/// Runs forever; a failed pass is logged and retried at the next tick.
pub async fn sign_checkpoints<S: Store + MerkleStore + 'static>(
    store: Arc<S>,
    keys: Arc<KeyRing>,
    clock: Arc<dyn Clock>,
    file: PathBuf,
) {
    let mut tick = tokio::time::interval(CHECKPOINT_INTERVAL);
    loop {
        tick.tick().await;
        let (store, keys, clock, file) = (
            Arc::clone(&store),
            Arc::clone(&keys),
            Arc::clone(&clock),
            file.clone(),
        );
        let pass = tokio::task::spawn_blocking(move || {
            crate::external_checkpoints::publish(
                &file,
                store.as_ref(),
                &keys,
                clock.now(),
                crate::external_checkpoints::witness(),
                true,
            )
        })
        .await;
        for w in pass.unwrap_or_default() {
            tracing::warn!(problem = %w, "audit checkpoint pass; will retry");
        }
    }
}
