//! `impl VerificationStore for SqliteStore`: one-time code challenges.

use custos_store::{
    AuditDraft, AuditRef, Challenge, OutboxMessage, Result, StoreError, SubjectId, TenantId,
    Timestamp, Uuid, VerificationStore, from_micros, micros,
};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{IdText, db, hash32};
use crate::store::append_audit_in;

pub(crate) const COLUMNS: &str =
    "id, subject, category, code_hash, created_at, expires_at, attempts, consumed_at";

fn bad(i: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(what),
    )
}

pub(crate) fn decode(row: &Row<'_>) -> rusqlite::Result<Challenge> {
    let id: String = row.get(0)?;
    let subject: String = row.get(1)?;
    let consumed: Option<i64> = row.get(7)?;
    Ok(Challenge {
        id: Uuid::try_parse(&id).map_err(|_| bad(0, "not a UUID"))?,
        subject: SubjectId(Uuid::try_parse(&subject).map_err(|_| bad(1, "not a UUID"))?),
        category: row.get(2)?,
        code_hash: hash32(row, 3)?,
        created_at: from_micros(row.get(4)?).ok_or_else(|| bad(4, "timestamp out of range"))?,
        expires_at: from_micros(row.get(5)?).ok_or_else(|| bad(5, "timestamp out of range"))?,
        attempts: row.get(6)?,
        consumed_at: match consumed {
            None => None,
            Some(v) => Some(from_micros(v).ok_or_else(|| bad(7, "timestamp out of range"))?),
        },
    })
}

impl VerificationStore for SqliteStore {
    fn create_challenge(
        &self,
        tenant: &TenantId,
        c: &Challenge,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            tx.prepare_cached(&format!(
                "INSERT INTO verification_challenges (tenant, {COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
            ))
            .and_then(|mut st| {
                st.execute(params![
                    tenant.as_str(),
                    IdText::new(c.id),
                    IdText::new(c.subject.0),
                    c.category,
                    c.code_hash.as_slice(),
                    micros(c.created_at),
                    micros(c.expires_at),
                    c.attempts,
                    c.consumed_at.map(micros),
                ])
            })
            .map_err(db)?;
            crate::requests::insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn queue_unaddressed(
        &self,
        tenant: &TenantId,
        outbox: &[OutboxMessage],
        purge_before: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            for m in outbox {
                tx.prepare_cached(
                    "DELETE FROM outbox WHERE tenant = ?1 AND subject IS NULL AND kind = ?2 \
                     AND delivered_at IS NOT NULL AND created_at < ?3",
                )
                .and_then(|mut st| {
                    st.execute(params![tenant.as_str(), m.kind, micros(purge_before)])
                })
                .map_err(db)?;
            }
            crate::requests::insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn challenge(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Challenge>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM verification_challenges WHERE tenant = ?1 AND id = ?2"
            ))
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), IdText::new(id)], decode)
                    .optional()
            })
            .map_err(db)
        })
    }

    fn challenges_since(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        since: Timestamp,
    ) -> Result<u32> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT COUNT(*) FROM verification_challenges WHERE tenant = ?1 AND subject = ?2 AND created_at >= ?3",
            )
            .and_then(|mut st| st.query_row(params![tenant.as_str(), IdText::new(subject.0), micros(since)], |r| r.get(0)))
            .map_err(db)
        })
    }

    fn record_attempt(
        &self,
        tenant: &TenantId,
        c: &Challenge,
        expected_attempts: u32,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE verification_challenges SET attempts = ?3, consumed_at = ?4 \
                     WHERE tenant = ?1 AND id = ?2 AND attempts = ?5 AND consumed_at IS NULL",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        IdText::new(c.id),
                        c.attempts,
                        c.consumed_at.map(micros),
                        expected_attempts,
                    ])
                })
                .map_err(db)?;
            if n != 1 {
                return Err(StoreError::Conflict("challenge changed meanwhile".into()));
            }
            append_audit_in(tx, tenant, audit)
        })
    }
}
