//! `impl ContractStore for PostgresStore`, with the SQLite backend's semantics:
//! a versioned compare-and-set of the contract's state, its outbox messages and its
//! audit entry in one transaction.

use custos_store::{
    AuditDraft, AuditRef, ContractFilter, ContractKind, ContractRow, ContractStore, OutboxMessage,
    Result, StoreError, TenantId, Timestamp, Uuid, micros,
};
use postgres::Row;

use crate::PostgresStore;
use crate::codec::{self, get, id_text, int};
use crate::requests::insert_outbox;
use crate::store::append_audit;

/// `id, subject, kind, status, state, next_due, version, created_at, updated_at`
pub(crate) fn decode(row: &Row) -> Result<ContractRow> {
    let kind: &str = get(row, 2)?;
    Ok(ContractRow {
        id: codec::uuid(row, 0)?,
        subject: codec::subject_id(row, 1)?,
        kind: ContractKind::parse(kind)
            .ok_or_else(|| StoreError::Corrupt("column 2: unknown contract kind".into()))?,
        status: get(row, 3)?,
        state: get(row, 4)?,
        next_due: codec::opt_ts(row, 5)?,
        version: codec::u32_col(row, 6)?,
        created_at: codec::ts(row, 7)?,
        updated_at: codec::ts(row, 8)?,
    })
}

pub(crate) fn insert<C: postgres::GenericClient>(
    s: &mut codec::Session<'_, C>,
    tenant: &TenantId,
    r: &ContractRow,
) -> Result<u64> {
    s.execute(
        "INSERT INTO contracts (tenant, id, subject, kind, status, state, next_due, version, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT DO NOTHING",
        &[
            &tenant.as_str(),
            &id_text(r.id),
            &id_text(r.subject.0),
            &r.kind.as_str(),
            &r.status,
            &r.state,
            &r.next_due.map(micros),
            &i64::from(r.version),
            &micros(r.created_at),
            &micros(r.updated_at),
        ],
    )
}

impl ContractStore for PostgresStore {
    fn create_contract(
        &self,
        tenant: &TenantId,
        row: &ContractRow,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            if insert(s, tenant, row)? != 1 {
                return Err(StoreError::Conflict("contract exists".into()));
            }
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn update_contract(
        &self,
        tenant: &TenantId,
        row: &ContractRow,
        expected_version: u32,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            let n = s.execute(
                "UPDATE contracts SET status = $3, state = $4, next_due = $5, version = $6, \
                 updated_at = $7 WHERE tenant = $1 AND id = $2 AND version = $8",
                &[
                    &tenant.as_str(),
                    &id_text(row.id),
                    &row.status,
                    &row.state,
                    &row.next_due.map(micros),
                    &i64::from(row.version),
                    &micros(row.updated_at),
                    &i64::from(expected_version),
                ],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict("contract changed meanwhile".into()));
            }
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn contract(&self, tenant: &TenantId, id: Uuid) -> Result<Option<ContractRow>> {
        self.run(|s| {
            s.query_opt(
                "SELECT id, subject, kind, status, state, next_due, version, created_at, \
                 updated_at FROM contracts WHERE tenant = $1 AND id = $2",
                &[&tenant.as_str(), &id_text(id)],
            )?
            .as_ref()
            .map(decode)
            .transpose()
        })
    }

    fn contracts(&self, tenant: &TenantId, filter: &ContractFilter) -> Result<Vec<ContractRow>> {
        let subject = filter.subject.map(|s| id_text(s.0));
        let kind = filter.kind.map(ContractKind::as_str);
        self.run(|s| {
            s.query(
                "SELECT id, subject, kind, status, state, next_due, version, created_at, \
                 updated_at FROM contracts WHERE tenant = $1 \
                 AND ($2::text IS NULL OR subject = $2) AND ($3::text IS NULL OR kind = $3) \
                 AND ($4::text IS NULL OR status = $4) ORDER BY created_at, id",
                &[&tenant.as_str(), &subject, &kind, &filter.status],
            )?
            .iter()
            .map(decode)
            .collect()
        })
    }

    fn due_contracts(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<ContractRow>> {
        self.run(|s| {
            s.query(
                "SELECT id, subject, kind, status, state, next_due, version, created_at, \
                 updated_at FROM contracts WHERE tenant = $1 \
                 AND next_due IS NOT NULL AND next_due <= $2 ORDER BY next_due, id LIMIT $3",
                &[&tenant.as_str(), &micros(now), &int(limit)],
            )?
            .iter()
            .map(decode)
            .collect()
        })
    }
}
