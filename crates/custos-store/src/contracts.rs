//! Storage of consumer contracts (orders, memberships, returns). A contract is kept
//! as the engine state serialised by custos-core (one JSON document), with the columns
//! the store needs to find it: its subject, kind, status name and the next instant its
//! clock must be advanced (`next_due`, for the clock job). Every change is a
//! compare-and-set on `version`, with the notices it owes (outbox) and its audit entry,
//! in one transaction.
//!
//! No personal value is stored here: a contract names its subject by id (addresses
//! and emails stay in the vault) and payments by the processor's reference only.

use crate::Result;
use crate::requests::OutboxMessage;
use crate::types::{AuditDraft, AuditRef, SubjectId, TenantId, Timestamp, Uuid};

/// What a contract is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContractKind {
    Order,
    Membership,
    Return,
}

impl ContractKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractKind::Order => "order",
            ContractKind::Membership => "membership",
            ContractKind::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "order" => Some(ContractKind::Order),
            "membership" => Some(ContractKind::Membership),
            "return" => Some(ContractKind::Return),
            _ => None,
        }
    }
}

/// A stored contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRow {
    pub id: Uuid,
    pub subject: SubjectId,
    pub kind: ContractKind,
    /// The state's name (`confirmed`, `past_due`, `received`, …), for lists and filters.
    pub status: String,
    /// The engine state as JSON (its shape is custos-core's).
    pub state: String,
    /// When the clock job must next advance this contract, if ever.
    pub next_due: Option<Timestamp>,
    /// 1 when created, +1 on every update.
    pub version: u32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Which contracts to list; `None` matches all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContractFilter {
    pub subject: Option<SubjectId>,
    pub kind: Option<ContractKind>,
    pub status: Option<String>,
}

/// Contract storage; defaults answer "not supported".
pub trait ContractStore: Send + Sync + 'static {
    /// Inserts a new contract (`Conflict` if the id exists) with its outbox messages
    /// and audit entry, in one transaction.
    fn create_contract(
        &self,
        _tenant: &TenantId,
        _row: &ContractRow,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    /// Replaces a contract whose stored version is still `expected_version`
    /// (`Conflict` otherwise, `NotFound`-free: a missing row is a conflict too) with
    /// `row` (whose `version` is the new one), its outbox messages and audit entry,
    /// in one transaction. The subject, kind and `created_at` never change.
    fn update_contract(
        &self,
        _tenant: &TenantId,
        _row: &ContractRow,
        _expected_version: u32,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    fn contract(&self, _tenant: &TenantId, _id: Uuid) -> Result<Option<ContractRow>> {
        Err(unsupported())
    }
    /// Contracts matching `filter`, oldest first (`created_at`, then id).
    fn contracts(&self, _tenant: &TenantId, _filter: &ContractFilter) -> Result<Vec<ContractRow>> {
        Err(unsupported())
    }
    /// Contracts whose `next_due <= now`, soonest first (`next_due`, then id), at most `limit`.
    fn due_contracts(
        &self,
        _tenant: &TenantId,
        _now: Timestamp,
        _limit: usize,
    ) -> Result<Vec<ContractRow>> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement contracts yet".to_owned())
}
