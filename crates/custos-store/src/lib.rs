//! Persistence for custos: one [`Store`] trait, implemented by each backend
//! (`custos-store-sqlite`, later `custos-store-postgres`), and a conformance suite
//! (feature `conformance`) that every backend's tests run.
//!
//! The trait is shaped by the domain, not by SQL: each method is one atomic unit
//! of work. In particular every method that reads or changes personal data takes
//! the [`AuditDraft`] describing that access and appends it **in the same
//! transaction**, so a read is never returned, and a write never lands, without its
//! audit entry being durable (fail closed).
//!
//! Every method that touches tenant data takes the [`TenantId`] and every query is
//! scoped by it; the only unscoped lookup is [`Store::api_key`], because the key is
//! what tells which tenant a caller belongs to.
//!
//! Values arrive here already encrypted: the store never sees a plaintext personal
//! value, a plaintext key, or an unhashed API secret.
#![forbid(unsafe_code)]

pub mod archive;
#[cfg(feature = "conformance")]
pub mod conformance;
#[cfg(feature = "conformance")]
pub mod conformance_archive;
#[cfg(feature = "conformance")]
pub mod conformance_contracts;
#[cfg(feature = "conformance")]
pub mod conformance_lifecycle;
mod consent;
mod contracts;
mod error;
mod incidents;
pub mod key_check;
pub mod leases;
mod lifecycle;
pub mod merkle_store;
mod policy_notices;
mod requests;
pub mod stats;
mod types;
mod verification;

pub use archive::{ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore};
pub use consent::{ConsentEvent, ConsentKind, ConsentStore};
pub use contracts::{ContractFilter, ContractKind, ContractRow, ContractStore};
pub use error::StoreError;
pub use incidents::{IncidentRow, IncidentStore};
pub use key_check::KeyCheckStore;
pub use leases::LeaseStore;
pub use lifecycle::{Erasure, HeldRecord, LifecycleStore, Rectification};
pub use merkle_store::{MerkleStore, StoredTree};
pub use policy_notices::PolicyNoticeStore;
pub use requests::{OutboxMessage, RequestState, RequestStore, RightsRequest};
pub use stats::{
    AggregateRow, ExpiredRecord, LegalHold, MIN_GROUP, RetentionApplied, RetentionBatch,
    RetentionStore, StatsStore, effective_min_group,
};
pub use types::*;
pub use verification::{Challenge, VerificationStore};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A storage backend. Implementations are cheap to share (`Arc`) across threads.
pub trait Store: Send + Sync + 'static {
    // --- tenants and policies -------------------------------------------------

    /// Creates a tenant; `StoreError::Conflict` if the id exists.
    fn create_tenant(&self, tenant: &Tenant) -> Result<()>;
    fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>>;
    fn tenants(&self) -> Result<Vec<Tenant>>;

    /// Stores a new policy version; versions are numbered 1, 2, … per tenant and
    /// `StoreError::Conflict` is returned if `version.number` is not the next one.
    fn publish_policy(&self, tenant: &TenantId, version: &PolicyVersion) -> Result<()>;
    /// The version in force at `at`: the highest-numbered one whose
    /// `effective_at <= at`.
    fn policy_in_force(&self, tenant: &TenantId, at: Timestamp) -> Result<Option<PolicyVersion>>;
    fn policy_versions(&self, tenant: &TenantId) -> Result<Vec<PolicyVersion>>;

    // --- API keys ----------------------------------------------------------------

    fn insert_api_key(&self, key: &ApiKey, audit: &AuditDraft) -> Result<AuditRef>;
    /// Looks a key up by its public id, across tenants (the key names its tenant).
    fn api_key(&self, id: &str) -> Result<Option<ApiKey>>;
    fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKey>>;
    /// Marks a key revoked; `NotFound` if it does not exist in that tenant.
    fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &str,
        at: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef>;

    // --- subjects and records --------------------------------------------------

    /// Creates a subject with its first records and blind-index entries.
    /// With `idempotency`, a replay of the same key returns `Conflict` if the
    /// key was already used (the caller looks the stored response up first).
    fn create_subject(&self, write: &SubjectWrite<'_>) -> Result<AuditRef>;
    /// Adds records (and index entries) to an existing, non-erased subject;
    /// `NotFound` otherwise.
    fn add_records(&self, write: &SubjectWrite<'_>) -> Result<AuditRef>;
    fn subject(&self, tenant: &TenantId, id: SubjectId) -> Result<Option<Subject>>;
    /// Whether a legal hold on the whole subject is in force at `now` (no end, or
    /// an end after `now`): reads then treat the subject as restricted.
    fn subject_held(&self, tenant: &TenantId, id: SubjectId, now: Timestamp) -> Result<bool>;
    /// The subject and its records of the given categories (all when empty),
    /// after appending `audit`. `NotFound` if the subject does not exist.
    fn read_subject(
        &self,
        tenant: &TenantId,
        id: SubjectId,
        categories: &[String],
        audit: &AuditDraft,
    ) -> Result<(Subject, Vec<Record>)>;
    /// Subjects whose blind index for `category` equals `hash`.
    fn find_subjects(
        &self,
        tenant: &TenantId,
        category: &str,
        hash: &[u8; 32],
    ) -> Result<Vec<SubjectId>>;

    // --- keys ----------------------------------------------------------------------

    /// Subjects whose data key is wrapped with a KEK version below `version`, at most `limit`.
    fn subjects_to_rewrap(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<WrappedKey>>;
    /// Replaces a wrapped data key if it still equals `old.wrapped_dek` (compare-and-set,
    /// so a concurrent rotation or erasure is never overwritten). Returns whether it did.
    fn rewrap(&self, tenant: &TenantId, old: &WrappedKey, new: &WrappedKey) -> Result<bool>;

    // --- audit -----------------------------------------------------------------------

    /// Appends an entry on its own (denials, administrative actions).
    fn append_audit(&self, tenant: &TenantId, audit: &AuditDraft) -> Result<AuditRef>;
    /// Entries with `seq >= from`, in order, at most `limit`.
    fn audit_entries(&self, tenant: &TenantId, from: u64, limit: usize) -> Result<Vec<AuditEntry>>;

    // --- idempotency ----------------------------------------------------------------

    /// The response stored for an idempotency key, if the key was used.
    fn idempotent_response(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<IdempotentResponse>>;

    // --- housekeeping ----------------------------------------------------------------

    fn counts(&self, tenant: &TenantId) -> Result<Counts>;
}
