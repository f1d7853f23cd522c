//! Storage of identity-verification challenges: one-time codes sent to a contact
//! held for the subject before a request from a person is acted on.

use crate::Result;
use crate::requests::OutboxMessage;
use crate::types::{AuditDraft, AuditRef, SubjectId, TenantId, Timestamp, Uuid};

/// A one-time code challenge. Only a keyed hash of the code is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id: Uuid,
    pub subject: SubjectId,
    /// The contact category the code went to (`user.contact.email`, …).
    pub category: String,
    pub code_hash: [u8; 32],
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub attempts: u32,
    pub consumed_at: Option<Timestamp>,
}

/// Challenge storage; defaults answer "not supported".
pub trait VerificationStore: Send + Sync + 'static {
    /// Stores a challenge with the outbox message that carries its code, in one transaction.
    fn create_challenge(
        &self,
        _tenant: &TenantId,
        _challenge: &Challenge,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// Stores the outbox message of a sign-in for an address that matched nobody,
    /// with its audit entry, in one transaction: the same write as
    /// `create_challenge` minus the challenge row, so an unknown address costs the
    /// server what a known one does (issue 17.5). The caller hands it closed
    /// (`delivered_at` set), so it never waits in the delivery queue ahead of real
    /// messages; in the same transaction the closed messages addressed to nobody
    /// (`subject` null) of the same kind created before `purge_before` are deleted,
    /// so probing cannot grow the table without bound.
    fn queue_unaddressed(
        &self,
        _tenant: &TenantId,
        _outbox: &[OutboxMessage],
        _purge_before: Timestamp,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    fn challenge(&self, _tenant: &TenantId, _id: Uuid) -> Result<Option<Challenge>> {
        Err(unsupported())
    }
    /// Challenges created for a subject since `since` (rate limiting).
    fn challenges_since(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _since: Timestamp,
    ) -> Result<u32> {
        Err(unsupported())
    }
    /// Records an attempt (and consumption on success) if the stored attempt count is
    /// still `expected_attempts`: `Conflict` otherwise, so two guesses cannot race.
    fn record_attempt(
        &self,
        _tenant: &TenantId,
        _challenge: &Challenge,
        _expected_attempts: u32,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend(
        "this backend does not implement identity verification yet".to_owned(),
    )
}
