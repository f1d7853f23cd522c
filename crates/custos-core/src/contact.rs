//! Where a notice goes: the outbox holds a subject id, never an address, so a mail
//! sink asks here for the subject's email when it sends. The read is internal (no API
//! key, actor `system`) and audited in the store's transaction like any other read:
//! action `notice.contact`, the category read, and the message kind as the reason.
//! The address is returned to the caller and never logged or put in an error.

use custos_crypto::{Aad, open};
use custos_policy::model::Shape;
use custos_store::{AuditDraft, Outcome, Store, SubjectId, SubjectState, TenantId};

use crate::error::VaultError;
use crate::vault::Vault;

/// The audit action of a contact read.
pub const CONTACT_ACTION: &str = "notice.contact";

/// The subject's email address, decrypted from the first record of the policy's
/// email categories (`shape = "email"`, `lookup = true`, in policy order) that the
/// subject holds. `only` restricts the search to one category (a verification code
/// goes to the contact it was started for); `reason` is recorded in the audit entry
/// (the message kind).
///
/// `Ok(None)`: the subject is unknown or erased, or holds no such contact.
pub fn contact_email<S: Store>(
    vault: &Vault<S>,
    tenant: &TenantId,
    subject: SubjectId,
    reason: &str,
    only: Option<&str>,
) -> Result<Option<String>, VaultError> {
    let policy = vault.policy(tenant)?;
    let categories: Vec<&String> = policy
        .policy
        .category
        .iter()
        .filter(|(name, c)| {
            c.lookup && c.shape == Shape::Email && only.is_none_or(|o| o == name.as_str())
        })
        .map(|(name, _)| name)
        .collect();
    if categories.is_empty() {
        return Ok(None);
    }
    match vault.store.subject(tenant, subject)? {
        Some(s) if s.state != SubjectState::Erased => {}
        _ => return Ok(None),
    }
    let subject_str = subject.to_string();
    for category in categories {
        let audit = AuditDraft {
            at: vault.now(),
            actor: "system".into(),
            key_id: None,
            action: CONTACT_ACTION.into(),
            purpose: None,
            subject: Some(subject),
            categories: vec![category.clone()],
            outcome: Outcome::Allow,
            reason: reason.chars().take(100).collect(),
            request_id: None,
        };
        let (row, records) =
            vault
                .store
                .read_subject(tenant, subject, std::slice::from_ref(category), &audit)?;
        let now = vault.now();
        // Expired means gone (issue 13.14): a contact past its expiry is not used.
        let Some(record) = records
            .into_iter()
            .find(|r| &r.category == category && !crate::retention::expired(r, now))
        else {
            continue;
        };
        let dek = vault.subject_key(tenant, &row)?;
        let aad = Aad::new(
            tenant.as_str(),
            &subject_str,
            &record.category,
            &record.id.to_string(),
        )?;
        let plain = open(&dek, &aad, &record.ciphertext)?;
        let value: serde_json::Value =
            serde_json::from_slice(&plain).map_err(|_| VaultError::Integrity)?;
        return match value {
            serde_json::Value::String(s) if !s.trim().is_empty() => Ok(Some(s.trim().to_owned())),
            _ => Err(VaultError::Integrity),
        };
    }
    Ok(None)
}
