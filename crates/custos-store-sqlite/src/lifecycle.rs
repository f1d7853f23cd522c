//! `impl LifecycleStore for SqliteStore`: rectification, restriction, erasure
//! (crypto-shredding) and the isolated legal hold.
//!
//! Erasure turns on `secure_delete` for the writer connection, so the deleted
//! rows and the overwritten wrapped key are zeroed in the database pages rather
//! than left in free space.

use std::collections::BTreeSet;

use custos_store::{
    AuditDraft, AuditRef, Erasure, HeldRecord, LifecycleStore, Record, RecordId, Rectification,
    Result, StoreError, SubjectId, SubjectState, TenantId, Timestamp, Uuid, from_micros, micros,
};
use rusqlite::types::Type;
use rusqlite::{Connection, Row, params};

use crate::SqliteStore;
use crate::codec::{self, IdText, db, subject_id};
use crate::store::{append_audit_in, select_subject_in};

pub(crate) const HELD_COLUMNS: &str = "id, subject, category, ciphertext, purpose, source, collected_at, \
                            held_for, reason, held_at, until";

fn bad(i: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        Type::Text,
        Box::<dyn std::error::Error + Send + Sync>::from(what),
    )
}

pub(crate) fn decode_held(row: &Row<'_>) -> rusqlite::Result<HeldRecord> {
    let id: String = row.get(0)?;
    let subject: String = row.get(1)?;
    let ts = |i: usize| -> rusqlite::Result<Timestamp> {
        from_micros(row.get(i)?).ok_or_else(|| bad(i, "timestamp out of range"))
    };
    let until: Option<i64> = row.get(10)?;
    Ok(HeldRecord {
        id: RecordId(Uuid::try_parse(&id).map_err(|_| bad(0, "not a UUID"))?),
        subject: SubjectId(Uuid::try_parse(&subject).map_err(|_| bad(1, "not a UUID"))?),
        category: row.get(2)?,
        ciphertext: row.get(3)?,
        purpose: row.get(4)?,
        source: row.get(5)?,
        collected_at: ts(6)?,
        held_for: row.get(7)?,
        reason: row.get(8)?,
        held_at: ts(9)?,
        until: match until {
            None => None,
            Some(us) => Some(from_micros(us).ok_or_else(|| bad(10, "timestamp out of range"))?),
        },
    })
}

/// `NotFound` unless the subject exists and is not erased.
fn require_live(conn: &Connection, tenant: &TenantId, subject: SubjectId) -> Result<()> {
    match select_subject_in(conn, tenant, subject)? {
        Some(s) if s.state != SubjectState::Erased => Ok(()),
        _ => Err(StoreError::NotFound("subject".to_owned())),
    }
}

fn records_of(conn: &Connection, tenant: &TenantId, subject: SubjectId) -> Result<Vec<Record>> {
    conn.prepare_cached(
        "SELECT id, subject, category, ciphertext, purpose, source, collected_at, expires_at \
         FROM records WHERE tenant = ?1 AND subject = ?2 ORDER BY rowid",
    )
    .and_then(|mut st| {
        st.query_map(params![tenant.as_str(), subject_id(subject)], codec::record)?
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .map_err(db)
}

/// On erasure, consent user agents are dropped: the ledger keeps the decision,
/// its time, channel and notice hash, never what the browser sent (issue 17.11).
const ERASE_CONSENT_USER_AGENTS: &str =
    "UPDATE consent_events SET user_agent = NULL WHERE tenant = ?1 AND subject = ?2";
/// On erasure, a legal hold's reason (staff's words, which may name people) is
/// replaced by a reference to the hold; its id, dates and the records it keeps stay.
const ERASE_HOLD_REASONS: &str =
    "UPDATE legal_holds SET reason = 'legal hold ' || id WHERE tenant = ?1 AND subject = ?2";

impl LifecycleStore for SqliteStore {
    fn subject_records(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<Record>> {
        self.read(|conn| {
            if select_subject_in(conn, tenant, subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            records_of(conn, tenant, subject)
        })
    }

    fn rectify_record(&self, r: &Rectification<'_>) -> Result<AuditRef> {
        // The old value is replaced: its bytes must not survive.
        self.write_shredding(|tx| {
            require_live(tx, r.tenant, r.subject)?;
            let changed = tx
                .prepare_cached(
                    "UPDATE records SET ciphertext = ?4 \
                     WHERE tenant = ?1 AND subject = ?2 AND id = ?3",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        r.tenant.as_str(),
                        subject_id(r.subject),
                        IdText::new(r.record.0),
                        r.ciphertext,
                    ])
                })
                .map_err(db)?;
            if changed != 1 {
                return Err(StoreError::NotFound("record".to_owned()));
            }
            for e in r.index_remove {
                tx.prepare_cached(
                    "DELETE FROM blind_index \
                     WHERE tenant = ?1 AND category = ?2 AND hash = ?3 AND subject = ?4",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        r.tenant.as_str(),
                        e.category,
                        e.hash.as_slice(),
                        subject_id(r.subject)
                    ])
                })
                .map_err(db)?;
            }
            for e in r.index_add {
                tx.prepare_cached(
                    "INSERT INTO blind_index (tenant, category, hash, subject) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        r.tenant.as_str(),
                        e.category,
                        e.hash.as_slice(),
                        subject_id(r.subject)
                    ])
                })
                .map_err(db)?;
            }
            touch(tx, r.tenant, r.subject, None, r.at)?;
            append_audit_in(tx, r.tenant, r.audit)
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
        self.write(|tx| {
            require_live(tx, tenant, subject)?;
            touch(tx, tenant, subject, Some(state), at)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn erase_subject(&self, e: &Erasure<'_>) -> Result<AuditRef> {
        self.write_shredding(|tx| {
            require_live(tx, e.tenant, e.subject)?;
            let held: BTreeSet<RecordId> = records_of(tx, e.tenant, e.subject)?
                .iter()
                .map(|r| r.id)
                .collect();
            let expected: BTreeSet<RecordId> = e.expected_records.iter().copied().collect();
            if held != expected {
                return Err(StoreError::Conflict(
                    "the subject's records changed since the erasure was planned".to_owned(),
                ));
            }
            let tenant = e.tenant.as_str();
            let sid = subject_id(e.subject);
            for h in e.held {
                if h.subject != e.subject || !expected.contains(&h.id) {
                    return Err(StoreError::Conflict(
                        "a held record is not one of the erased subject's".to_owned(),
                    ));
                }
                tx.prepare_cached(&format!(
                    "INSERT INTO held_records (tenant, {HELD_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                ))
                .and_then(|mut st| {
                    st.execute(params![
                        tenant,
                        IdText::new(h.id.0),
                        sid,
                        h.category,
                        h.ciphertext,
                        h.purpose,
                        h.source,
                        micros(h.collected_at),
                        h.held_for,
                        h.reason,
                        micros(h.held_at),
                        h.until.map(micros),
                    ])
                })
                .map_err(db)?;
            }
            for sql in [
                "DELETE FROM records WHERE tenant = ?1 AND subject = ?2",
                "DELETE FROM blind_index WHERE tenant = ?1 AND subject = ?2",
                // Issue 17.11: what people typed or their browser sent leaves with
                // them; the ledger keeps the decision, a hold its id and end.
                ERASE_CONSENT_USER_AGENTS,
                ERASE_HOLD_REASONS,
            ] {
                tx.prepare_cached(sql)
                    .and_then(|mut st| st.execute(params![tenant, sid]))
                    .map_err(db)?;
            }
            // Crypto-shredding: the wrapped data key is overwritten with nothing.
            tx.prepare_cached(
                "UPDATE subjects SET wrapped_dek = X'', state = 'erased', updated_at = ?3 \
                 WHERE tenant = ?1 AND id = ?2",
            )
            .and_then(|mut st| st.execute(params![tenant, sid, micros(e.at)]))
            .map_err(db)?;
            append_audit_in(tx, e.tenant, e.audit)
        })
    }

    fn read_held_records(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        audit: &AuditDraft,
    ) -> Result<Vec<HeldRecord>> {
        self.write(|tx| {
            let held = tx
                .prepare_cached(&format!(
                    "SELECT {HELD_COLUMNS} FROM held_records \
                     WHERE tenant = ?1 AND subject = ?2 ORDER BY rowid"
                ))
                .and_then(|mut st| {
                    st.query_map(params![tenant.as_str(), subject_id(subject)], decode_held)?
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(db)?;
            append_audit_in(tx, tenant, audit)?;
            Ok(held)
        })
    }

    fn purge_held_records(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        audit: &AuditDraft,
    ) -> Result<u64> {
        self.write_shredding(|tx| {
            let n = tx
                .prepare_cached(
                    "DELETE FROM held_records WHERE tenant = ?1 AND until IS NOT NULL AND until <= ?2",
                )
                .and_then(|mut st| st.execute(params![tenant.as_str(), micros(now)]))
                .map_err(db)?;
            append_audit_in(tx, tenant, audit)?;
            Ok(u64::try_from(n).unwrap_or(u64::MAX))
        })
    }
}

/// Sets `updated_at` (and the state, when given) of a live subject.
fn touch(
    conn: &Connection,
    tenant: &TenantId,
    subject: SubjectId,
    state: Option<SubjectState>,
    at: Timestamp,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE subjects SET state = COALESCE(?3, state), updated_at = ?4 \
         WHERE tenant = ?1 AND id = ?2",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            subject_id(subject),
            state.map(SubjectState::as_str),
            micros(at)
        ])
    })
    .map_err(db)?;
    Ok(())
}
