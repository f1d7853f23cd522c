//! Storage of data-subject rights requests and of the outbox of notices owed to
//! people. A notice is written in the same transaction as its cause, so a crash
//! can never record a cause without its notice (or the reverse).

use crate::Result;
use crate::types::{AuditDraft, AuditRef, SubjectId, TenantId, Timestamp, Uuid};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestState {
    Received,
    /// About data held as processor: forwarded to the controller, waiting for its
    /// documented instruction (S-1, V-3, L-1, L-8).
    Routed,
    Verified,
    InProgress,
    Fulfilled,
    Rejected,
}

impl RequestState {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Received => "received",
            RequestState::Routed => "routed",
            RequestState::Verified => "verified",
            RequestState::InProgress => "in_progress",
            RequestState::Fulfilled => "fulfilled",
            RequestState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "received" => Some(RequestState::Received),
            "routed" => Some(RequestState::Routed),
            "verified" => Some(RequestState::Verified),
            "in_progress" => Some(RequestState::InProgress),
            "fulfilled" => Some(RequestState::Fulfilled),
            "rejected" => Some(RequestState::Rejected),
            _ => None,
        }
    }

    pub fn is_closed(self) -> bool {
        matches!(self, RequestState::Fulfilled | RequestState::Rejected)
    }
}

/// A rights request (access, erasure, …) and its statutory clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightsRequest {
    pub id: Uuid,
    pub subject: Option<SubjectId>,
    /// The right, as named in the policy (`access`, `erasure`, …).
    pub right: String,
    pub state: RequestState,
    pub jurisdiction: Option<String>,
    /// How it arrived (`web`, `email`, `post`, `privacy_center`, …).
    pub channel: String,
    pub received_at: Timestamp,
    pub due_at: Timestamp,
    pub extended_until: Option<Timestamp>,
    pub extension_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    /// Why it was rejected (shown to the person), when it was.
    pub rejection_reason: Option<String>,
}

/// A notice owed to a person. It carries ids and dates, never personal values: the
/// delivery job resolves the contact when it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: Uuid,
    pub subject: Option<SubjectId>,
    /// `request.acknowledged`, `request.extended`, `request.fulfilled`, …
    pub kind: String,
    /// JSON payload for the template (ids, dates, reasons).
    pub payload: String,
    pub created_at: Timestamp,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// Storage of requests and the outbox. Defaults answer "not supported" so a backend
/// compiles before it implements them.
pub trait RequestStore: Send + Sync + 'static {
    /// Inserts (when `expected` is `None`) or updates a request whose stored state is
    /// still `expected` (`Conflict` otherwise), with its outbox messages and audit
    /// entry, in one transaction.
    fn put_request(
        &self,
        _tenant: &TenantId,
        _request: &RightsRequest,
        _expected: Option<RequestState>,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    fn request(&self, _tenant: &TenantId, _id: Uuid) -> Result<Option<RightsRequest>> {
        Err(unsupported())
    }
    /// Every request of the tenant, soonest due first.
    fn requests(&self, _tenant: &TenantId) -> Result<Vec<RightsRequest>> {
        Err(unsupported())
    }
    /// Undelivered messages whose next attempt is due, oldest first.
    fn due_outbox(
        &self,
        _tenant: &TenantId,
        _now: Timestamp,
        _limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        Err(unsupported())
    }
    /// All messages of a subject (for the person's own view and for tests).
    fn outbox_of(&self, _tenant: &TenantId, _subject: SubjectId) -> Result<Vec<OutboxMessage>> {
        Err(unsupported())
    }
    /// Records a delivery attempt: delivered, or failed with the next attempt time.
    /// The payload is written too: a delivered sign-in code is scrubbed from its row.
    fn mark_outbox(&self, _tenant: &TenantId, _message: &OutboxMessage) -> Result<()> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement rights requests yet".to_owned())
}
