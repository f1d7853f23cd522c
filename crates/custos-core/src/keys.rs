//! Key rotation: after a new master key version is added to the key file, every
//! subject's data key is re-wrapped under the tenant's new KEK. Values are never
//! re-encrypted: only the 60-byte wrapped keys change.

use custos_crypto::{Aad, KeyRing, rewrap};
use custos_store::{AuditDraft, Outcome, Store, TenantId, Timestamp, WrappedKey};

use crate::error::VaultError;

/// Re-wraps every data key of `tenant` that is below the key ring's current
/// version, in batches; safe to run again after an interruption. Returns how
/// many keys moved.
pub fn rewrap_tenant<S: Store>(
    store: &S,
    keys: &KeyRing,
    tenant: &TenantId,
    batch: usize,
    now: Timestamp,
) -> Result<u64, VaultError> {
    let current = keys.current_version();
    let new_kek = keys.current_kek(tenant.as_str())?;
    let mut moved = 0u64;
    loop {
        let todo = store.subjects_to_rewrap(tenant, current, batch.max(1))?;
        if todo.is_empty() {
            break;
        }
        let mut progressed = false;
        for old in todo {
            let old_kek = keys.kek(tenant.as_str(), old.kek_version)?;
            let aad = Aad::subject(tenant.as_str(), &old.subject.to_string())?;
            let wrapped = rewrap(&old_kek, &new_kek, &old.wrapped_dek, &aad)?;
            let new = WrappedKey {
                subject: old.subject,
                wrapped_dek: wrapped,
                kek_version: current,
            };
            if store.rewrap(tenant, &old, &new)? {
                moved += 1;
                progressed = true;
            }
        }
        if !progressed {
            // A whole batch changed under us yet is still listed: something else is
            // rewriting these rows. Stop rather than spin.
            return Err(VaultError::Internal("key rotation made no progress".into()));
        }
    }
    store.append_audit(
        tenant,
        &AuditDraft {
            at: now,
            actor: "operator".into(),
            key_id: None,
            action: "rotate_keys".into(),
            purpose: None,
            subject: None,
            categories: Vec::new(),
            outcome: Outcome::Allow,
            reason: format!("rewrapped {moved} data keys to key version {current}"),
            request_id: None,
        },
    )?;
    Ok(moved)
}
