//! `impl IncidentStore for PostgresStore`, with the SQLite backend's semantics:
//! a versioned compare-and-set of the incident's document, its outbox messages
//! and its audit entry in one transaction.

use custos_store::{
    AuditDraft, AuditRef, IncidentRow, IncidentStore, OutboxMessage, Result, StoreError, TenantId,
    Uuid,
};
use postgres::Row;

use crate::PostgresStore;
use crate::codec::{self, get, id_text};
use crate::requests::insert_outbox;
use crate::store::append_audit;

/// `id, version, document`
pub(crate) fn decode(row: &Row) -> Result<IncidentRow> {
    Ok(IncidentRow {
        id: codec::uuid(row, 0)?,
        version: codec::u32_col(row, 1)?,
        document: get(row, 2)?,
    })
}

impl IncidentStore for PostgresStore {
    fn put_incident(
        &self,
        tenant: &TenantId,
        row: &IncidentRow,
        expected_version: Option<u32>,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            let t = tenant.as_str();
            let id = id_text(row.id);
            let version = i64::from(row.version);
            let n = match expected_version {
                None => s.execute(
                    "INSERT INTO incidents (tenant, id, version, document) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&t, &id, &version, &row.document],
                )?,
                Some(v) => s.execute(
                    "UPDATE incidents SET version = $3, document = $4 \
                     WHERE tenant = $1 AND id = $2 AND version = $5",
                    &[&t, &id, &version, &row.document, &i64::from(v)],
                )?,
            };
            if n != 1 {
                return Err(StoreError::Conflict("incident changed meanwhile".into()));
            }
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn incident(&self, tenant: &TenantId, id: Uuid) -> Result<Option<IncidentRow>> {
        self.run(|s| {
            s.query_opt(
                "SELECT id, version, document FROM incidents WHERE tenant = $1 AND id = $2",
                &[&tenant.as_str(), &id_text(id)],
            )?
            .as_ref()
            .map(decode)
            .transpose()
        })
    }

    fn incidents(&self, tenant: &TenantId) -> Result<Vec<IncidentRow>> {
        self.run(|s| {
            s.query(
                "SELECT id, version, document FROM incidents WHERE tenant = $1 ORDER BY id DESC",
                &[&tenant.as_str()],
            )?
            .iter()
            .map(decode)
            .collect()
        })
    }
}
