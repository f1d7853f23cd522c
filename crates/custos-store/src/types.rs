//! Rows the store keeps. Ciphertexts and hashes only: no plaintext personal data.

use std::fmt;

pub use jiff::Timestamp;
pub use uuid::Uuid;

/// A tenant id: 1–64 characters of `a-z`, `0-9`, `-`, `_`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

impl TenantId {
    pub fn new(id: &str) -> Option<Self> {
        let ok = !id.is_empty()
            && id.len() <= 64
            && id
                .chars()
                .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-' | '_'));
        ok.then(|| TenantId(id.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The tenant `default`: the one a fresh data directory creates.
    pub fn default_tenant() -> Self {
        TenantId("default".to_owned())
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An opaque subject id (UUID v7).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct SubjectId(pub Uuid);

impl fmt::Display for SubjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// An opaque record id (UUID v7).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct RecordId(pub Uuid);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: Timestamp,
}

/// One published version of a tenant's policy (immutable once stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    /// 1, 2, … per tenant.
    pub number: u32,
    /// The policy's own version label (`[policy] version`).
    pub label: String,
    /// The policy file, as published.
    pub text: String,
    pub effective_at: Timestamp,
    pub published_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubjectState {
    Active,
    /// No purpose may read except those allowed during restriction.
    Restricted,
    /// Data key destroyed; nothing can be read.
    Erased,
}

impl SubjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectState::Active => "active",
            SubjectState::Restricted => "restricted",
            SubjectState::Erased => "erased",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(SubjectState::Active),
            "restricted" => Some(SubjectState::Restricted),
            "erased" => Some(SubjectState::Erased),
            _ => None,
        }
    }
}

/// A person, known by an opaque id. The data key is stored only wrapped by the KEK.
#[derive(Clone, PartialEq, Eq)]
pub struct Subject {
    pub id: SubjectId,
    pub wrapped_dek: Vec<u8>,
    pub kek_version: u32,
    pub jurisdiction: Option<String>,
    pub state: SubjectState,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject")
            .field("id", &self.id)
            .field("kek_version", &self.kek_version)
            .field("jurisdiction", &self.jurisdiction)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// One encrypted value of one category for one subject.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    pub id: RecordId,
    pub subject: SubjectId,
    pub category: String,
    /// Sealed with the subject's data key; AAD binds tenant, subject, category, id.
    pub ciphertext: Vec<u8>,
    /// The purpose the value was collected for.
    pub purpose: String,
    /// Where it came from (`data_subject`, `device`, …).
    pub source: String,
    pub collected_at: Timestamp,
    /// When retention ends, if computable at collection.
    pub expires_at: Option<Timestamp>,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// A keyed hash of a normalised value, for lookups by email or phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlindIndexEntry {
    pub category: String,
    pub hash: [u8; 32],
}

/// What an idempotent create stores with its effect, in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotentResponse {
    pub key: String,
    /// Hash of the request body, so a reused key with another body is refused.
    pub request_hash: [u8; 32],
    pub status: u16,
    pub body: String,
    pub created_at: Timestamp,
}

/// An atomic write of one subject's records.
#[derive(Debug, Clone)]
pub struct SubjectWrite<'a> {
    pub tenant: &'a TenantId,
    /// For `create_subject`, the new subject; for `add_records`, the subject id is
    /// `subject.id` and the other fields are ignored.
    pub subject: &'a Subject,
    pub records: &'a [Record],
    pub index: &'a [BlindIndexEntry],
    /// Consent the write carries (the person's tick on the client's form): stored
    /// first, in the same transaction as the records it allows (issue 13.1).
    pub consents: &'a [crate::ConsentEvent],
    pub audit: &'a AuditDraft,
    pub idempotency: Option<&'a IdempotentResponse>,
}

/// An API key: the secret is shown once; only its keyed hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Public id, the part before the secret (`ck_…`).
    pub id: String,
    pub tenant: TenantId,
    pub hash: [u8; 32],
    pub label: String,
    /// The policy recipient (role) this key reads as.
    pub role: String,
    /// Purposes the key may name; empty = every purpose of its role.
    pub purposes: Vec<String>,
    /// May manage keys and tenants.
    pub admin: bool,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKey")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("role", &self.role)
            .field("admin", &self.admin)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// A subject's wrapped data key, for KEK rotation.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub subject: SubjectId,
    pub wrapped_dek: Vec<u8>,
    pub kek_version: u32,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("subject", &self.subject)
            .field("kek_version", &self.kek_version)
            .finish_non_exhaustive()
    }
}

/// Outcome of an access decision, as audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Allow,
    /// Allowed in part: some categories were withheld.
    Partial,
    Deny,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Partial => "partial",
            Outcome::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "allow" => Some(Outcome::Allow),
            "partial" => Some(Outcome::Partial),
            "deny" => Some(Outcome::Deny),
            _ => None,
        }
    }
}

/// An audit entry before the store numbers and chains it. Never holds values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditDraft {
    pub at: Timestamp,
    /// Who acted: `key:<id>`, `operator`, `subject:<id>`, `system`.
    pub actor: String,
    pub key_id: Option<String>,
    /// `read`, `write`, `create_key`, `revoke_key`, `rotate_keys`, …
    pub action: String,
    pub purpose: Option<String>,
    pub subject: Option<SubjectId>,
    pub categories: Vec<String>,
    pub outcome: Outcome,
    /// Why (a stable reason code or short phrase, never a value).
    pub reason: String,
    pub request_id: Option<String>,
}

/// A stored audit entry, numbered and hash-chained per tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub seq: u64,
    pub draft: AuditDraft,
    pub prev_hash: [u8; 32],
    pub hash: [u8; 32],
}

/// Where an appended entry landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRef {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// Sizes of a tenant's data, for health pages and export checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub subjects: u64,
    pub records: u64,
    pub api_keys: u64,
    pub audit_entries: u64,
}

impl AuditEntry {
    /// The fields the hash chain covers (see `custos_audit::canonical`).
    pub fn hash_fields<'a>(
        &'a self,
        tenant: &'a TenantId,
        subject: &'a str,
    ) -> custos_audit::EntryFields<'a> {
        draft_fields(tenant, self.seq, &self.draft, subject)
    }
}

/// The canonical field view of a draft at sequence `seq`; `subject` is the
/// subject id as text (empty when none), passed in to avoid an allocation here.
pub fn draft_fields<'a>(
    tenant: &'a TenantId,
    seq: u64,
    d: &'a AuditDraft,
    subject: &'a str,
) -> custos_audit::EntryFields<'a> {
    custos_audit::EntryFields {
        tenant: tenant.as_str(),
        seq,
        at_micros: micros(d.at),
        actor: &d.actor,
        key_id: d.key_id.as_deref().unwrap_or(""),
        action: &d.action,
        purpose: d.purpose.as_deref().unwrap_or(""),
        subject,
        categories: &d.categories,
        decision: d.outcome.as_str(),
        reason: &d.reason,
        request_id: d.request_id.as_deref().unwrap_or(""),
    }
}

/// Microseconds since the Unix epoch: how every backend stores time.
pub fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

/// The inverse of [`micros`]; `None` outside jiff's range.
pub fn from_micros(us: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(us).ok()
}
