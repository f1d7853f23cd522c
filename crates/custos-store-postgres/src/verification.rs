//! `impl VerificationStore for PostgresStore`: one-time code challenges, with
//! the SQLite backend's semantics (the challenge and the outbox message that
//! carries its code in one transaction; attempts by compare-and-set).

use custos_store::{
    AuditDraft, AuditRef, Challenge, OutboxMessage, Result, StoreError, SubjectId, TenantId,
    Timestamp, Uuid, VerificationStore, micros,
};
use postgres::Row;

use crate::PostgresStore;
use crate::codec::{self, get, id_text};
use crate::requests::insert_outbox;
use crate::store::append_audit;

/// The challenge columns in the order [`decode`] reads them, then `$tail`.
macro_rules! select_challenge {
    ($tail:literal) => {
        concat!(
            "SELECT id, subject, category, code_hash, created_at, expires_at, attempts, \
             consumed_at FROM verification_challenges ",
            $tail
        )
    };
}
pub(crate) use select_challenge;

pub(crate) fn decode(row: &Row) -> Result<Challenge> {
    Ok(Challenge {
        id: codec::uuid(row, 0)?,
        subject: codec::subject_id(row, 1)?,
        category: get(row, 2)?,
        code_hash: codec::hash32(row, 3)?,
        created_at: codec::ts(row, 4)?,
        expires_at: codec::ts(row, 5)?,
        attempts: codec::u32_col(row, 6)?,
        consumed_at: codec::opt_ts(row, 7)?,
    })
}

pub(crate) fn insert_challenge<C: postgres::GenericClient>(
    s: &mut codec::Session<'_, C>,
    tenant: &TenantId,
    c: &Challenge,
) -> Result<()> {
    s.execute(
        "INSERT INTO verification_challenges (tenant, id, subject, category, code_hash, \
         created_at, expires_at, attempts, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            &tenant.as_str(),
            &id_text(c.id),
            &id_text(c.subject.0),
            &c.category,
            &c.code_hash.as_slice(),
            &micros(c.created_at),
            &micros(c.expires_at),
            &i64::from(c.attempts),
            &c.consumed_at.map(micros),
        ],
    )?;
    Ok(())
}

impl VerificationStore for PostgresStore {
    fn create_challenge(
        &self,
        tenant: &TenantId,
        c: &Challenge,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            insert_challenge(s, tenant, c)?;
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn queue_unaddressed(
        &self,
        tenant: &TenantId,
        outbox: &[OutboxMessage],
        purge_before: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            for m in outbox {
                s.execute(
                    "DELETE FROM outbox WHERE tenant = $1 AND subject IS NULL AND kind = $2 \
                     AND delivered_at IS NOT NULL AND created_at < $3",
                    &[&tenant.as_str(), &m.kind, &micros(purge_before)],
                )?;
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn challenge(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Challenge>> {
        self.run(|s| {
            s.query_opt(
                select_challenge!("WHERE tenant = $1 AND id = $2"),
                &[&tenant.as_str(), &id_text(id)],
            )?
            .as_ref()
            .map(decode)
            .transpose()
        })
    }

    fn challenges_since(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        since: Timestamp,
    ) -> Result<u32> {
        self.run(|s| {
            let row = s.query_one(
                "SELECT COUNT(*) FROM verification_challenges \
                 WHERE tenant = $1 AND subject = $2 AND created_at >= $3",
                &[&tenant.as_str(), &id_text(subject.0), &micros(since)],
            )?;
            codec::u32_col(&row, 0)
        })
    }

    fn record_attempt(
        &self,
        tenant: &TenantId,
        c: &Challenge,
        expected_attempts: u32,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            let n = s.execute(
                "UPDATE verification_challenges SET attempts = $3, consumed_at = $4 \
                 WHERE tenant = $1 AND id = $2 AND attempts = $5 AND consumed_at IS NULL",
                &[
                    &tenant.as_str(),
                    &id_text(c.id),
                    &i64::from(c.attempts),
                    &c.consumed_at.map(micros),
                    &i64::from(expected_attempts),
                ],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict("challenge changed meanwhile".into()));
            }
            append_audit(s, tenant, audit)
        })
    }
}
