//! Publishing a policy version together with the `policy.change` notices owed to
//! the people it affects (S-7, V-6, T-17): one transaction, so a version that needs
//! notice is never in the store without its notices. Defaults answer "not
//! supported" so a backend can add it when ready.

use crate::{AuditDraft, AuditRef, OutboxMessage, PolicyVersion, Result, SubjectId, TenantId};

pub trait PolicyNoticeStore {
    /// Every subject not erased, with its jurisdiction: the people a policy change
    /// may concern.
    fn notice_recipients(&self, _tenant: &TenantId) -> Result<Vec<(SubjectId, Option<String>)>> {
        Err(unsupported())
    }

    /// Stores `version` (which must be the next number, `Conflict` otherwise), the
    /// outbox messages and the audit entry in one transaction.
    fn publish_with_notices(
        &self,
        _tenant: &TenantId,
        _version: &PolicyVersion,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend(
        "this backend does not implement policy-change notices yet".to_owned(),
    )
}
