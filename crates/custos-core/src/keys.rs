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

/// Why a key file may not be used with a database (fail closed: nothing is
/// read or written with it). Each carries a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFileMismatch {
    /// A key of the file differs from the key the database was bound to.
    #[error(
        "VAULT-0260: the key file is not the one this database belongs to (its `{0}` key differs); \
         use the database's own key file"
    )]
    Different(String),
    /// Subjects' data keys are wrapped under a master-key version the file lacks.
    #[error(
        "VAULT-0261: the key file lacks master-key version {0}, which data keys in this database \
         are wrapped under; restore the key file that holds it"
    )]
    MissingVersion(u32),
    /// The store could not be asked.
    #[error("the database could not be checked against the key file: {0}")]
    Store(String),
}

/// The one rule binding a database to its key file, run by `custos serve` and
/// every command before it uses a key: every key-check value the database
/// stores must match the file's key of that name (except a retired master-key
/// version no data key uses any more), and every master-key version a live data
/// key is wrapped under must be in the file. Then the file's values the
/// database lacks are stored (its first use, or a rotation), so the next run
/// checks them too. A database of an older build has no values yet: it gets
/// them on its first run, after the version check (recorded decision).
pub fn bind_key_file<S: custos_store::KeyCheckStore + ?Sized>(
    store: &S,
    file: &custos_crypto::KeyFile,
) -> Result<(), KeyFileMismatch> {
    let store_err = |e: custos_store::StoreError| KeyFileMismatch::Store(e.to_string());
    let ours = file.key_checks();
    let in_use = store.kek_versions_in_use().map_err(store_err)?;
    let versions: Vec<u32> = file.master_keys().iter().map(|m| m.version()).collect();
    if let Some(missing) = in_use.iter().find(|v| !versions.contains(v)) {
        return Err(KeyFileMismatch::MissingVersion(*missing));
    }
    for (name, stored) in store.key_checks().map_err(store_err)? {
        match ours.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                if !custos_crypto::ct_eq(value, &stored) {
                    return Err(KeyFileMismatch::Different(name));
                }
            }
            None => {
                // A master key retired after its rotation is fine; another key
                // of the database missing from the file is not this file.
                let retired = name
                    .strip_prefix("master-")
                    .and_then(|v| v.parse::<u32>().ok())
                    .is_some_and(|v| !in_use.contains(&v));
                if !retired {
                    return Err(KeyFileMismatch::Different(name));
                }
            }
        }
    }
    let values: Vec<(String, Vec<u8>)> = ours.into_iter().map(|(n, v)| (n, v.to_vec())).collect();
    store.add_key_checks(&values).map_err(store_err)
}
