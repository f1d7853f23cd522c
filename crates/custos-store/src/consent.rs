//! The consent ledger's storage: append-only events, from which the current state
//! of each (subject, purpose) is derived. A separate trait from [`crate::Store`] so
//! that backends can add it on their own schedule.

use crate::Result;
use crate::types::{AuditDraft, AuditRef, SubjectId, TenantId, Timestamp, Uuid};

/// What a consent event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsentKind {
    Granted,
    Withdrawn,
    /// The person objected to a legitimate-interest or public-interest purpose.
    Objected,
    /// The person lifted an earlier objection.
    ObjectionLifted,
}

impl ConsentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentKind::Granted => "granted",
            ConsentKind::Withdrawn => "withdrawn",
            ConsentKind::Objected => "objected",
            ConsentKind::ObjectionLifted => "objection_lifted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "granted" => Some(ConsentKind::Granted),
            "withdrawn" => Some(ConsentKind::Withdrawn),
            "objected" => Some(ConsentKind::Objected),
            "objection_lifted" => Some(ConsentKind::ObjectionLifted),
            _ => None,
        }
    }
}

/// One event of the ledger. Proof fields hold hashes and a user agent, never an IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentEvent {
    pub id: Uuid,
    pub subject: SubjectId,
    pub purpose: String,
    pub kind: ConsentKind,
    /// The policy version the person saw.
    pub policy_version: u32,
    /// SHA-256 of the exact notice text shown.
    pub notice_hash: [u8; 32],
    /// How it was given: `web`, `app`, `email_link`, `gpc`, `operator`, …
    pub channel: String,
    /// Keyed hash of the client's IP address, if known.
    pub ip_hash: Option<[u8; 32]>,
    pub user_agent: Option<String>,
    pub at: Timestamp,
    /// Who recorded it: `data_subject` (the person, through the privacy center or
    /// a signed link), `admin`, or the policy role of the API key that relayed it
    /// (issue 13.2: the ledger shows who recorded each event).
    pub recorded_by: String,
}

/// Consent-ledger storage. The methods default to "not supported" so a backend
/// compiles before it implements the ledger; every shipped backend overrides them.
pub trait ConsentStore: Send + Sync + 'static {
    /// Appends an event and its audit entry in one transaction; `NotFound` if the
    /// subject does not exist (or is erased) in this tenant.
    fn append_consent(
        &self,
        _tenant: &TenantId,
        _event: &ConsentEvent,
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// Every event of a subject, oldest first.
    fn consent_events(&self, _tenant: &TenantId, _subject: SubjectId) -> Result<Vec<ConsentEvent>> {
        Err(unsupported())
    }
    /// The latest event of a subject for a purpose among the given kinds.
    fn latest_consent(
        &self,
        _tenant: &TenantId,
        _subject: SubjectId,
        _purpose: &str,
        _kinds: &[ConsentKind],
    ) -> Result<Option<ConsentEvent>> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement the consent ledger yet".to_owned())
}
