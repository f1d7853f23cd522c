//! Moving a whole tenant between backends (`custos export` / `custos import`):
//! every row of a tenant, as stored — wrapped data keys, ciphertexts, key
//! hashes, the audit chain with its hashes — listed in one consistent snapshot
//! and inserted raw into an empty tenant of another store.
//!
//! Nothing is decrypted or re-encrypted on the way: ciphertexts stay bound to
//! the key file (and the tenant id, which their AAD and the audit hashes
//! cover), so the target must run with the same key file and tenant id.
//!
//! A separate trait from [`crate::Store`] whose methods default to "not
//! supported".

use custos_audit::checkpoint::SignedCheckpoint;

use crate::Result;
use crate::consent::ConsentEvent;
use crate::contracts::ContractRow;
use crate::incidents::IncidentRow;
use crate::lifecycle::HeldRecord;
use crate::requests::{OutboxMessage, RightsRequest};
use crate::stats::{AggregateRow, LegalHold};
use crate::types::{
    ApiKey, AuditEntry, BlindIndexEntry, IdempotentResponse, PolicyVersion, Record, Subject,
    SubjectId, Tenant, TenantId,
};
use crate::verification::Challenge;

/// How many rows of each kind a tenant has (the tenant row itself not counted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveCounts {
    pub policy_versions: u64,
    pub api_keys: u64,
    pub subjects: u64,
    pub records: u64,
    pub blind_index: u64,
    pub consent_events: u64,
    pub requests: u64,
    pub outbox: u64,
    pub idempotency: u64,
    pub held_records: u64,
    pub verification_challenges: u64,
    pub incidents: u64,
    pub contracts: u64,
    pub aggregates: u64,
    pub legal_holds: u64,
    pub audit_entries: u64,
    pub checkpoints: u64,
}

impl ArchiveCounts {
    /// Every row the counts cover.
    pub fn total(&self) -> u64 {
        self.policy_versions
            + self.api_keys
            + self.subjects
            + self.records
            + self.blind_index
            + self.consent_events
            + self.requests
            + self.outbox
            + self.idempotency
            + self.held_records
            + self.verification_challenges
            + self.incidents
            + self.contracts
            + self.aggregates
            + self.legal_holds
            + self.audit_entries
            + self.checkpoints
    }

    /// Counts one more row of `row`'s kind (the tenant row counts nothing).
    pub fn add(&mut self, row: &ArchiveRow) {
        let n = match row {
            ArchiveRow::Tenant(_) => return,
            ArchiveRow::PolicyVersion(_) => &mut self.policy_versions,
            ArchiveRow::ApiKey(_) => &mut self.api_keys,
            ArchiveRow::Subject(_) => &mut self.subjects,
            ArchiveRow::Record(_) => &mut self.records,
            ArchiveRow::BlindIndex { .. } => &mut self.blind_index,
            ArchiveRow::Consent(_) => &mut self.consent_events,
            ArchiveRow::Request(_) => &mut self.requests,
            ArchiveRow::Outbox(_) => &mut self.outbox,
            ArchiveRow::Idempotency(_) => &mut self.idempotency,
            ArchiveRow::HeldRecord(_) => &mut self.held_records,
            ArchiveRow::Challenge(_) => &mut self.verification_challenges,
            ArchiveRow::Incident(_) => &mut self.incidents,
            ArchiveRow::Contract(_) => &mut self.contracts,
            ArchiveRow::Aggregate(_) => &mut self.aggregates,
            ArchiveRow::LegalHold(_) => &mut self.legal_holds,
            ArchiveRow::Audit(_) => &mut self.audit_entries,
            ArchiveRow::Checkpoint(_) => &mut self.checkpoints,
        };
        *n += 1;
    }
}

/// One stored row of a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveRow {
    Tenant(Tenant),
    PolicyVersion(PolicyVersion),
    ApiKey(ApiKey),
    Subject(Subject),
    Record(Record),
    BlindIndex {
        subject: SubjectId,
        entry: BlindIndexEntry,
    },
    Consent(ConsentEvent),
    Request(RightsRequest),
    Outbox(OutboxMessage),
    Idempotency(IdempotentResponse),
    /// A record kept under a legal hold after its subject's erasure.
    HeldRecord(HeldRecord),
    /// An identity-verification challenge.
    Challenge(Challenge),
    Incident(IncidentRow),
    /// A consumer contract (order, membership, return).
    Contract(ContractRow),
    /// An anonymous aggregate group, whatever its count (groups below
    /// [`crate::MIN_GROUP`] included: they are stored, only never returned).
    Aggregate(AggregateRow),
    /// A legal hold on a subject or one of its records.
    LegalHold(LegalHold),
    Audit(AuditEntry),
    /// A signed audit checkpoint (its tenant is the archive's).
    Checkpoint(SignedCheckpoint),
}

/// Receives an export: the counts first, then every row.
pub trait ArchiveSink {
    fn counts(&mut self, counts: &ArchiveCounts) -> Result<()>;
    fn row(&mut self, row: ArchiveRow) -> Result<()>;
}

/// Listing and raw insertion of a whole tenant.
pub trait ArchiveStore: Send + Sync + 'static {
    /// Streams the tenant to `sink` from one consistent snapshot: the counts,
    /// then the tenant row, policy versions (by number), API keys (by id),
    /// subjects (by id), records (by id), blind-index entries (by subject,
    /// category, hash), consent events (by id), requests (by id), outbox
    /// messages (by id), idempotent responses (by key), held records (by id),
    /// verification challenges (by id), incidents (by id), contracts (by id), aggregates (by
    /// purpose, category, bucket), legal holds (by id), audit entries (by
    /// seq) and signed checkpoints (by tree size). Ids and text compare by
    /// bytes, so every backend lists the same tenant in the same order.
    /// `NotFound` if the tenant does not exist.
    fn export_tenant(&self, _tenant: &TenantId, _sink: &mut dyn ArchiveSink) -> Result<()> {
        Err(unsupported())
    }

    /// Inserts rows as they are, in one transaction, in the order of an
    /// export (a tenant row first). Audit entries keep their seq and hashes,
    /// and the chain's head follows them; checkpoints are stored as they are
    /// (the Merkle tree is not built here: call
    /// [`crate::MerkleStore::catch_up_tree`] once every row is in). `Conflict`
    /// if a row exists.
    fn import_rows(&self, _tenant: &TenantId, _rows: &[ArchiveRow]) -> Result<()> {
        Err(unsupported())
    }

    /// The tenant's counts, as an export's header states them.
    fn archive_counts(&self, _tenant: &TenantId) -> Result<ArchiveCounts> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement tenant archives yet".to_owned())
}
