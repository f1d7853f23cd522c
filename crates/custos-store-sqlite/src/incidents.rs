//! `impl IncidentStore for SqliteStore`.

use custos_store::{
    AuditDraft, AuditRef, IncidentRow, IncidentStore, OutboxMessage, Result, StoreError, TenantId,
    Uuid,
};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{IdText, db};
use crate::store::append_audit_in;

pub(crate) fn decode(row: &Row<'_>) -> rusqlite::Result<IncidentRow> {
    let id: String = row.get(0)?;
    Ok(IncidentRow {
        id: Uuid::try_parse(&id).map_err(|_| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                Type::Text,
                Box::<dyn std::error::Error + Send + Sync>::from("not a UUID"),
            )
        })?,
        version: row.get(1)?,
        document: row.get(2)?,
    })
}

impl IncidentStore for SqliteStore {
    fn put_incident(
        &self,
        tenant: &TenantId,
        row: &IncidentRow,
        expected_version: Option<u32>,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            let n = match expected_version {
                None => tx
                    .prepare_cached("INSERT INTO incidents (tenant, id, version, document) VALUES (?1, ?2, ?3, ?4)")
                    .and_then(|mut st| st.execute(params![tenant.as_str(), IdText::new(row.id), row.version, row.document])),
                Some(v) => tx
                    .prepare_cached(
                        "UPDATE incidents SET version = ?3, document = ?4 WHERE tenant = ?1 AND id = ?2 AND version = ?5",
                    )
                    .and_then(|mut st| {
                        st.execute(params![tenant.as_str(), IdText::new(row.id), row.version, row.document, v])
                    }),
            }
            .map_err(db)?;
            if n != 1 {
                return Err(StoreError::Conflict("incident changed meanwhile".into()));
            }
            crate::requests::insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn incident(&self, tenant: &TenantId, id: Uuid) -> Result<Option<IncidentRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, version, document FROM incidents WHERE tenant = ?1 AND id = ?2",
            )
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), IdText::new(id)], decode)
                    .optional()
            })
            .map_err(db)
        })
    }

    fn incidents(&self, tenant: &TenantId) -> Result<Vec<IncidentRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, version, document FROM incidents WHERE tenant = ?1 ORDER BY id DESC",
            )
            .and_then(|mut st| {
                st.query_map([tenant.as_str()], decode)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }
}
