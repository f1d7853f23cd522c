//! `impl PolicyNoticeStore for SqliteStore`: a policy version and its change notices
//! in one transaction.

use custos_store::{
    AuditDraft, AuditRef, OutboxMessage, PolicyNoticeStore, PolicyVersion, Result, StoreError,
    SubjectId, TenantId, Uuid, micros,
};
use rusqlite::params;

use crate::SqliteStore;
use crate::codec::db;
use crate::requests::insert_outbox;
use crate::store::append_audit_in;

impl PolicyNoticeStore for SqliteStore {
    fn notice_recipients(&self, tenant: &TenantId) -> Result<Vec<(SubjectId, Option<String>)>> {
        self.read(|conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT id, jurisdiction FROM subjects \
                     WHERE tenant = ?1 AND state <> 'erased' ORDER BY id",
                )
                .map_err(db)?;
            let rows = st
                .query_map([tenant.as_str()], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<String>>(1)?))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, jurisdiction) = row.map_err(db)?;
                let id = Uuid::try_parse(&id)
                    .map_err(|_| StoreError::Corrupt("subject id is not a UUID".into()))?;
                out.push((SubjectId(id), jurisdiction));
            }
            Ok(out)
        })
    }

    fn publish_with_notices(
        &self,
        tenant: &TenantId,
        version: &PolicyVersion,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            let last: i64 = tx
                .prepare_cached(
                    "SELECT COALESCE(MAX(number), 0) FROM policy_versions WHERE tenant = ?1",
                )
                .and_then(|mut st| st.query_row([tenant.as_str()], |row| row.get(0)))
                .map_err(db)?;
            if i64::from(version.number) != last.saturating_add(1) {
                return Err(StoreError::Conflict(format!(
                    "policy version {} is not the next one ({})",
                    version.number,
                    last.saturating_add(1)
                )));
            }
            tx.prepare_cached(
                "INSERT INTO policy_versions \
                 (tenant, number, label, text, effective_at, published_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    tenant.as_str(),
                    version.number,
                    version.label,
                    version.text,
                    micros(version.effective_at),
                    micros(version.published_at),
                ])
            })
            .map_err(db)?;
            insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }
}
