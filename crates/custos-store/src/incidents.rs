//! Storage of breach incidents. An incident is kept as one JSON document (its shape
//! is the engine's); what matters to the store is that it changes atomically with
//! the notices it releases and its audit entry.

use crate::Result;
use crate::requests::OutboxMessage;
use crate::types::{AuditDraft, AuditRef, TenantId, Uuid};

/// A stored incident: the engine's JSON document and a version for compare-and-set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRow {
    pub id: Uuid,
    pub version: u32,
    pub document: String,
}

/// Incident storage; defaults answer "not supported".
pub trait IncidentStore: Send + Sync + 'static {
    /// Inserts (`expected_version` `None`) or replaces a row whose stored version is
    /// still `expected_version` (`Conflict` otherwise), with outbox messages and the
    /// audit entry, in one transaction.
    fn put_incident(
        &self,
        _tenant: &TenantId,
        _row: &IncidentRow,
        _expected_version: Option<u32>,
        _outbox: &[OutboxMessage],
        _audit: &AuditDraft,
    ) -> Result<AuditRef> {
        Err(unsupported())
    }
    fn incident(&self, _tenant: &TenantId, _id: Uuid) -> Result<Option<IncidentRow>> {
        Err(unsupported())
    }
    /// Every incident of the tenant, newest first.
    fn incidents(&self, _tenant: &TenantId) -> Result<Vec<IncidentRow>> {
        Err(unsupported())
    }
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement incidents yet".to_owned())
}
