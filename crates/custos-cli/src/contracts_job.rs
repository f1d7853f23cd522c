//! The `custos serve` job that runs the contracts clock every minute, for every
//! tenant, under the `contracts` lease: of several instances sharing a database,
//! one advances the clocks per pass. Each contract commits on its own, by
//! compare-and-set, so a pass that dies midway loses nothing and is never applied twice.

use std::sync::Arc;
use std::time::Duration;

use custos_core::vault::Vault;
use custos_store::{ContractStore, LeaseStore, Store, Timestamp, Uuid};

/// The lease every instance's contracts job (and `custos contracts tick`) claims.
pub const CONTRACTS_JOB: &str = "contracts";
/// Longer than a pass takes; released at its end.
pub const CONTRACTS_LEASE: Duration = Duration::from_secs(300);
/// How often the clocks are advanced.
pub const CONTRACTS_INTERVAL: Duration = Duration::from_secs(60);

/// Runs forever; a failed pass is logged and retried at the next tick.
pub async fn tick_contracts<S: Store + ContractStore + LeaseStore>(vault: Arc<Vault<S>>) {
    let holder: Arc<str> = Uuid::new_v4().to_string().into();
    let mut tick = tokio::time::interval(CONTRACTS_INTERVAL);
    loop {
        tick.tick().await;
        let vault = Arc::clone(&vault);
        let holder = Arc::clone(&holder);
        let pass = tokio::task::spawn_blocking(move || -> Result<(), String> {
            let store = vault.store();
            let claimed = store
                .try_claim(CONTRACTS_JOB, &holder, vault.now(), CONTRACTS_LEASE)
                .map_err(|e| e.to_string())?;
            if !claimed {
                return Ok(());
            }
            let result = contracts_pass(vault.as_ref(), vault.now()).map(|_| ());
            let released = store
                .release(CONTRACTS_JOB, &holder)
                .map_err(|e| e.to_string());
            result.and(released)
        })
        .await;
        if let Ok(Err(e)) = pass {
            tracing::warn!(error = %e, "contracts clock pass failed; will retry");
        }
    }
}

/// One pass over every tenant with a policy in force (tenants without contract terms
/// have no contracts due and are skipped); the number of contracts advanced.
pub fn contracts_pass<S: Store + ContractStore>(
    vault: &Vault<S>,
    now: Timestamp,
) -> Result<usize, String> {
    let mut advanced = 0;
    for t in vault.store().tenants().map_err(|e| e.to_string())? {
        match vault.tick_contracts(&t.id, now) {
            Ok(r) => {
                if r.advanced + r.conflicts + r.failed > 0 {
                    tracing::info!(
                        tenant = %t.id,
                        advanced = r.advanced,
                        notices = r.notices,
                        conflicts = r.conflicts,
                        failed = r.failed,
                        "contracts clock"
                    );
                }
                advanced += r.advanced;
            }
            Err(custos_core::VaultError::NoPolicy | custos_core::VaultError::Invalid(_)) => {}
            Err(e) => return Err(format!("tenant {}: {e}", t.id)),
        }
    }
    Ok(advanced)
}
