//! Storage for the end of a record's life and of a subject's: rectification,
//! restriction and erasure (crypto-shredding with legal holds). A separate trait
//! from [`crate::Store`] so backends add it on their own schedule; the methods
//! default to "not supported".
//!
//! Every method is one transaction, tenant-scoped, with its audit entry appended
//! inside it. Ciphertexts only: the engine seals and opens.

use std::fmt;

use crate::Result;
use crate::types::{
    AuditDraft, AuditRef, BlindIndexEntry, Record, RecordId, SubjectId, SubjectState, TenantId,
    Timestamp,
};

/// A record kept after its subject was erased, because the law requires it
/// (legal obligation, legal claims). Re-sealed under the tenant's hold key (the
/// subject's data key is destroyed), stored apart from live records, with why it
/// is kept and from when it may be deleted.
#[derive(Clone, PartialEq, Eq)]
pub struct HeldRecord {
    /// The id the record had; the AAD still binds tenant, subject, category and this id.
    pub id: RecordId,
    pub subject: SubjectId,
    pub category: String,
    /// Sealed under the tenant's hold key.
    pub ciphertext: Vec<u8>,
    /// The purpose it was collected for.
    pub purpose: String,
    pub source: String,
    pub collected_at: Timestamp,
    /// The purpose that keeps it (a legal-obligation purpose readable during restriction).
    pub held_for: String,
    /// Why, in words (the purpose's legal reference); never a value.
    pub reason: String,
    pub held_at: Timestamp,
    /// When it becomes deletable (collection + the category's retention), if known.
    pub until: Option<Timestamp>,
}

impl fmt::Debug for HeldRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldRecord")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("held_for", &self.held_for)
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

/// A rectification: one record's value replaced (sealed under the same data key,
/// with the same record id in the AAD); the old ciphertext is overwritten.
#[derive(Debug, Clone)]
pub struct Rectification<'a> {
    pub tenant: &'a TenantId,
    pub subject: SubjectId,
    pub record: RecordId,
    pub ciphertext: &'a [u8],
    /// Blind-index entries of the old value to drop (none if another record still has it).
    pub index_remove: &'a [BlindIndexEntry],
    /// Blind-index entries of the new value.
    pub index_add: &'a [BlindIndexEntry],
    pub at: Timestamp,
    pub audit: &'a AuditDraft,
}

/// An erasure: every record and blind-index entry of the subject deleted, its
/// wrapped data key overwritten (crypto-shredding), its state set to `erased`,
/// except the `held` records, inserted into the isolated hold.
#[derive(Debug, Clone)]
pub struct Erasure<'a> {
    pub tenant: &'a TenantId,
    pub subject: SubjectId,
    /// The record ids the engine planned with; if the subject holds others now
    /// (a concurrent write), the store answers `Conflict` and the engine replans.
    pub expected_records: &'a [RecordId],
    pub held: &'a [HeldRecord],
    pub at: Timestamp,
    pub audit: &'a AuditDraft,
}

/// Rectification, restriction and erasure storage.
pub trait LifecycleStore: Send + Sync + 'static {
    /// The subject's live records (ciphertexts), without an audit entry: for the
    /// engine to plan a rectification or erasure. `NotFound` if the subject does
    /// not exist in this tenant.
    fn subject_records(&self, _tenant: &TenantId, _subject: SubjectId) -> Result<Vec<Record>> {
        Err(unsupported())
    }
    /// Replaces a record's ciphertext and the blind-index entries given. `NotFound`
    /// if the subject is missing or erased, or the record is not one of its own.
    fn rectify_record(&self, _r: &Rectification<'_>) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// Sets a subject's state to `Active` or `Restricted` (never `Erased`: that is
    /// [`LifecycleStore::erase_subject`]). `NotFound` if missing or erased.
    fn set_subject_state(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _state: SubjectState,
        _at: Timestamp,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// Erases a subject (see [`Erasure`]). `NotFound` if missing or already erased;
    /// `Conflict` if its records are not exactly `expected_records`.
    fn erase_subject(&self, _e: &Erasure<'_>) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// The subject's held records, after appending `audit` in the same transaction.
    fn read_held_records(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _audit: &AuditDraft,
    ) -> Result<Vec<HeldRecord>> {
        Err(unsupported())
    }
    /// Deletes held records whose `until` is at or before `now`; returns how many,
    /// with `audit` appended in the same transaction.
    fn purge_held_records(
        &self,
        _tenant: &TenantId,
        _now: Timestamp,
        _audit: &AuditDraft,
    ) -> Result<u64> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend(
        "this backend does not implement rectification, restriction and erasure yet".to_owned(),
    )
}
