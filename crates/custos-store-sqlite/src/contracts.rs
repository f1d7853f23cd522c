//! `impl ContractStore for SqliteStore`: a versioned compare-and-set of the contract's
//! state, its outbox messages and its audit entry in one transaction.

use custos_store::{
    AuditDraft, AuditRef, ContractFilter, ContractKind, ContractRow, ContractStore, OutboxMessage,
    Result, StoreError, SubjectId, TenantId, Timestamp, Uuid, from_micros, micros,
};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{IdText, db, int};
use crate::store::append_audit_in;

pub(crate) const CONTRACT_COLUMNS: &str =
    "id, subject, kind, status, state, next_due, version, created_at, updated_at";

fn bad(i: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(what),
    )
}

fn uuid(row: &Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(i)?;
    Uuid::try_parse(&s).map_err(|_| bad(i, "not a UUID"))
}

fn ts(row: &Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    from_micros(row.get(i)?).ok_or_else(|| bad(i, "timestamp out of range"))
}

/// Columns in [`CONTRACT_COLUMNS`] order.
pub(crate) fn decode(row: &Row<'_>) -> rusqlite::Result<ContractRow> {
    let kind: String = row.get(2)?;
    let next_due = match row.get::<_, Option<i64>>(5)? {
        None => None,
        Some(v) => Some(from_micros(v).ok_or_else(|| bad(5, "timestamp out of range"))?),
    };
    let version: i64 = row.get(6)?;
    Ok(ContractRow {
        id: uuid(row, 0)?,
        subject: SubjectId(uuid(row, 1)?),
        kind: ContractKind::parse(&kind).ok_or_else(|| bad(2, "unknown contract kind"))?,
        status: row.get(3)?,
        state: row.get(4)?,
        next_due,
        version: u32::try_from(version).map_err(|_| bad(6, "out of range for u32"))?,
        created_at: ts(row, 7)?,
        updated_at: ts(row, 8)?,
    })
}

pub(crate) fn insert(tx: &rusqlite::Connection, tenant: &TenantId, r: &ContractRow) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO contracts (tenant, id, subject, kind, status, state, next_due, version, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            IdText::new(r.id),
            IdText::new(r.subject.0),
            r.kind.as_str(),
            r.status,
            r.state,
            r.next_due.map(micros),
            r.version,
            micros(r.created_at),
            micros(r.updated_at),
        ])
    })
    .map_err(db)?;
    Ok(())
}

impl ContractStore for SqliteStore {
    fn create_contract(
        &self,
        tenant: &TenantId,
        row: &ContractRow,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            insert(tx, tenant, row)?;
            crate::requests::insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
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
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE contracts SET status = ?3, state = ?4, next_due = ?5, version = ?6, \
                     updated_at = ?7 WHERE tenant = ?1 AND id = ?2 AND version = ?8",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        IdText::new(row.id),
                        row.status,
                        row.state,
                        row.next_due.map(micros),
                        row.version,
                        micros(row.updated_at),
                        expected_version,
                    ])
                })
                .map_err(db)?;
            if n != 1 {
                return Err(StoreError::Conflict("contract changed meanwhile".into()));
            }
            crate::requests::insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn contract(&self, tenant: &TenantId, id: Uuid) -> Result<Option<ContractRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE tenant = ?1 AND id = ?2"
            ))
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), IdText::new(id)], decode)
                    .optional()
            })
            .map_err(db)
        })
    }

    fn contracts(&self, tenant: &TenantId, filter: &ContractFilter) -> Result<Vec<ContractRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE tenant = ?1 \
                 AND (?2 IS NULL OR subject = ?2) AND (?3 IS NULL OR kind = ?3) \
                 AND (?4 IS NULL OR status = ?4) ORDER BY created_at, id"
            ))
            .and_then(|mut st| {
                st.query_map(
                    params![
                        tenant.as_str(),
                        filter.subject.map(|s| IdText::new(s.0)),
                        filter.kind.map(ContractKind::as_str),
                        filter.status,
                    ],
                    decode,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn due_contracts(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<ContractRow>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {CONTRACT_COLUMNS} FROM contracts WHERE tenant = ?1 \
                 AND next_due IS NOT NULL AND next_due <= ?2 ORDER BY next_due, id LIMIT ?3"
            ))
            .and_then(|mut st| {
                st.query_map(params![tenant.as_str(), micros(now), int(limit)], decode)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }
}
