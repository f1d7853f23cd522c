//! `impl PolicyNoticeStore for PostgresStore`: a policy version and its change
//! notices in one transaction, with the SQLite backend's semantics.

use custos_store::{
    AuditDraft, AuditRef, OutboxMessage, PolicyNoticeStore, PolicyVersion, Result, StoreError,
    SubjectId, TenantId, micros,
};

use crate::PostgresStore;
use crate::codec::{get, subject_id};
use crate::requests::insert_outbox;
use crate::store::append_audit;

impl PolicyNoticeStore for PostgresStore {
    fn notice_recipients(&self, tenant: &TenantId) -> Result<Vec<(SubjectId, Option<String>)>> {
        self.run(|s| {
            let rows = s.query(
                "SELECT id, jurisdiction FROM subjects \
                 WHERE tenant = $1 AND state <> 'erased' ORDER BY id",
                &[&tenant.as_str()],
            )?;
            rows.iter()
                .map(|r| Ok((subject_id(r, 0)?, get::<Option<String>>(r, 1)?)))
                .collect()
        })
    }

    fn publish_with_notices(
        &self,
        tenant: &TenantId,
        version: &PolicyVersion,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            let inserted = s.execute(
                "INSERT INTO policy_versions \
                 (tenant, number, label, text, effective_at, published_at) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE $2 = (SELECT COALESCE(MAX(number), 0) + 1 FROM policy_versions \
                             WHERE tenant = $1)",
                &[
                    &tenant.as_str(),
                    &i64::from(version.number),
                    &version.label,
                    &version.text,
                    &micros(version.effective_at),
                    &micros(version.published_at),
                ],
            )?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "policy version {} is not the next one",
                    version.number
                )));
            }
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }
}
