//! `impl LifecycleStore for PostgresStore`: rectification, restriction, erasure
//! (crypto-shredding) and the isolated legal hold, with the SQLite backend's
//! semantics. Each method locks the subject's row (`FOR UPDATE`) first, so an
//! erasure and a write to the same subject take turns.

use std::collections::BTreeSet;

use custos_store::{
    AuditDraft, AuditRef, Erasure, HeldRecord, LifecycleStore, Record, RecordId, Rectification,
    Result, StoreError, SubjectId, SubjectState, TenantId, Timestamp, Uuid, from_micros, micros,
};
use postgres::{Row, Transaction};

use crate::PostgresStore;
use crate::codec::{self, Session, get, id_text};
use crate::store::{append_audit, select_subject};

/// The held-record columns in the order [`decode_held`] reads them, then `$tail`.
macro_rules! select_held {
    ($tail:literal) => {
        concat!(
            "SELECT id, subject, category, ciphertext, purpose, source, collected_at, held_for, \
             reason, held_at, until FROM held_records ",
            $tail
        )
    };
}
pub(crate) use select_held;

fn corrupt(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("held_records column {idx}: {what}"))
}

pub(crate) fn decode_held(row: &Row) -> Result<HeldRecord> {
    let ts = |i: usize| -> Result<Timestamp> {
        from_micros(get(row, i)?).ok_or_else(|| corrupt(i, "timestamp out of range"))
    };
    Ok(HeldRecord {
        id: RecordId(Uuid::try_parse(get(row, 0)?).map_err(|_| corrupt(0, "not a UUID"))?),
        subject: codec::subject_id(row, 1)?,
        category: get(row, 2)?,
        ciphertext: get(row, 3)?,
        purpose: get(row, 4)?,
        source: get(row, 5)?,
        collected_at: ts(6)?,
        held_for: get(row, 7)?,
        reason: get(row, 8)?,
        held_at: ts(9)?,
        until: match get::<Option<i64>>(row, 10)? {
            None => None,
            Some(us) => Some(from_micros(us).ok_or_else(|| corrupt(10, "timestamp out of range"))?),
        },
    })
}

/// Locks the subject's row; `NotFound` unless it exists and is not erased.
fn lock_live(s: &mut Session<'_, Transaction<'_>>, tenant: &TenantId, id: SubjectId) -> Result<()> {
    let row = s.query_opt(
        "SELECT state FROM subjects WHERE tenant = $1 AND id = $2 FOR UPDATE",
        &[&tenant.as_str(), &id_text(id.0)],
    )?;
    let state = match &row {
        Some(row) => SubjectState::parse(get(row, 0)?),
        None => None,
    };
    match state {
        Some(SubjectState::Active | SubjectState::Restricted) => Ok(()),
        Some(SubjectState::Erased) | None => Err(StoreError::NotFound("subject".to_owned())),
    }
}

const RECORDS_OF: &str = "SELECT id, subject, category, ciphertext, purpose, source, \
                          collected_at, expires_at FROM records \
                          WHERE tenant = $1 AND subject = $2 ORDER BY ord";

impl LifecycleStore for PostgresStore {
    fn subject_records(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<Record>> {
        self.write(|s| {
            if select_subject(s, tenant, subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            s.query(RECORDS_OF, &[&tenant.as_str(), &id_text(subject.0)])?
                .iter()
                .map(codec::record)
                .collect()
        })
    }

    fn rectify_record(&self, r: &Rectification<'_>) -> Result<AuditRef> {
        self.write_shredding(|s| {
            lock_live(s, r.tenant, r.subject)?;
            let sid = id_text(r.subject.0);
            let changed = s.execute(
                "UPDATE records SET ciphertext = $4 WHERE tenant = $1 AND subject = $2 AND id = $3",
                &[
                    &r.tenant.as_str(),
                    &sid,
                    &id_text(r.record.0),
                    &r.ciphertext,
                ],
            )?;
            if changed != 1 {
                return Err(StoreError::NotFound("record".to_owned()));
            }
            for e in r.index_remove {
                s.execute(
                    "DELETE FROM blind_index \
                     WHERE tenant = $1 AND category = $2 AND hash = $3 AND subject = $4",
                    &[&r.tenant.as_str(), &e.category, &e.hash.as_slice(), &sid],
                )?;
            }
            for e in r.index_add {
                s.execute(
                    "INSERT INTO blind_index (tenant, category, hash, subject) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[&r.tenant.as_str(), &e.category, &e.hash.as_slice(), &sid],
                )?;
            }
            s.execute(
                "UPDATE subjects SET updated_at = $3 WHERE tenant = $1 AND id = $2",
                &[&r.tenant.as_str(), &sid, &micros(r.at)],
            )?;
            append_audit(s, r.tenant, r.audit)
        })
    }

    fn set_subject_state(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        state: SubjectState,
        at: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        if state == SubjectState::Erased {
            return Err(StoreError::Backend(
                "a subject is erased with erase_subject".to_owned(),
            ));
        }
        self.write(|s| {
            lock_live(s, tenant, subject)?;
            s.execute(
                "UPDATE subjects SET state = $3, updated_at = $4 WHERE tenant = $1 AND id = $2",
                &[
                    &tenant.as_str(),
                    &id_text(subject.0),
                    &state.as_str(),
                    &micros(at),
                ],
            )?;
            append_audit(s, tenant, audit)
        })
    }

    fn erase_subject(&self, e: &Erasure<'_>) -> Result<AuditRef> {
        self.write_shredding(|s| {
            lock_live(s, e.tenant, e.subject)?;
            let tenant = e.tenant.as_str();
            let sid = id_text(e.subject.0);
            let current: BTreeSet<RecordId> = s
                .query(RECORDS_OF, &[&tenant, &sid])?
                .iter()
                .map(|row| codec::record(row).map(|r| r.id))
                .collect::<Result<_>>()?;
            let expected: BTreeSet<RecordId> = e.expected_records.iter().copied().collect();
            if current != expected {
                return Err(StoreError::Conflict(
                    "the subject's records changed since the erasure was planned".to_owned(),
                ));
            }
            for h in e.held {
                if h.subject != e.subject || !expected.contains(&h.id) {
                    return Err(StoreError::Conflict(
                        "a held record is not one of the erased subject's".to_owned(),
                    ));
                }
                s.execute(
                    "INSERT INTO held_records (tenant, id, subject, category, ciphertext, \
                     purpose, source, collected_at, held_for, reason, held_at, until) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                    &[
                        &tenant,
                        &id_text(h.id.0),
                        &sid,
                        &h.category,
                        &h.ciphertext,
                        &h.purpose,
                        &h.source,
                        &micros(h.collected_at),
                        &h.held_for,
                        &h.reason,
                        &micros(h.held_at),
                        &h.until.map(micros),
                    ],
                )?;
            }
            s.execute(
                "DELETE FROM records WHERE tenant = $1 AND subject = $2",
                &[&tenant, &sid],
            )?;
            s.execute(
                "DELETE FROM blind_index WHERE tenant = $1 AND subject = $2",
                &[&tenant, &sid],
            )?;
            // Issue 17.11: what people typed or their browser sent leaves with
            // them; the ledger keeps the decision, a hold its id and end.
            s.execute(
                "UPDATE consent_events SET user_agent = NULL WHERE tenant = $1 AND subject = $2",
                &[&tenant, &sid],
            )?;
            s.execute(
                "UPDATE legal_holds SET reason = 'legal hold ' || id \
                 WHERE tenant = $1 AND subject = $2",
                &[&tenant, &sid],
            )?;
            // Crypto-shredding: the wrapped data key is overwritten with nothing.
            s.execute(
                "UPDATE subjects SET wrapped_dek = ''::bytea, state = 'erased', updated_at = $3 \
                 WHERE tenant = $1 AND id = $2",
                &[&tenant, &sid, &micros(e.at)],
            )?;
            append_audit(s, e.tenant, e.audit)
        })
    }

    fn read_held_records(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        audit: &AuditDraft,
    ) -> Result<Vec<HeldRecord>> {
        self.write(|s| {
            let held = s
                .query(
                    select_held!("WHERE tenant = $1 AND subject = $2 ORDER BY ord"),
                    &[&tenant.as_str(), &id_text(subject.0)],
                )?
                .iter()
                .map(decode_held)
                .collect::<Result<Vec<_>>>()?;
            append_audit(s, tenant, audit)?;
            Ok(held)
        })
    }

    fn purge_held_records(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        audit: &AuditDraft,
    ) -> Result<u64> {
        self.write_shredding(|s| {
            let n = s.execute(
                "DELETE FROM held_records WHERE tenant = $1 AND until IS NOT NULL AND until <= $2",
                &[&tenant.as_str(), &micros(now)],
            )?;
            append_audit(s, tenant, audit)?;
            Ok(n)
        })
    }
}
