//! `impl RequestStore for SqliteStore`: rights requests and the outbox.

use custos_store::{
    AuditDraft, AuditRef, OutboxMessage, RequestState, RequestStore, Result, RightsRequest,
    StoreError, SubjectId, TenantId, Timestamp, Uuid, from_micros, micros,
};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{IdText, db, int};
use crate::store::append_audit_in;

pub(crate) const REQUEST_COLUMNS: &str = "id, subject, right_kind, state, jurisdiction, channel, received_at, due_at, \
     extended_until, extension_reason, closed_at, rejection_reason";
pub(crate) const OUTBOX_COLUMNS: &str =
    "id, subject, kind, payload, created_at, attempts, next_attempt_at, delivered_at, last_error";

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

fn opt_subject(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<SubjectId>> {
    match row.get::<_, Option<String>>(i)? {
        None => Ok(None),
        Some(s) => Ok(Some(SubjectId(
            Uuid::try_parse(&s).map_err(|_| bad(i, "not a UUID"))?,
        ))),
    }
}

fn ts(row: &Row<'_>, i: usize) -> rusqlite::Result<Timestamp> {
    from_micros(row.get(i)?).ok_or_else(|| bad(i, "timestamp out of range"))
}

fn opt_ts(row: &Row<'_>, i: usize) -> rusqlite::Result<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(i)? {
        None => Ok(None),
        Some(v) => Ok(Some(
            from_micros(v).ok_or_else(|| bad(i, "timestamp out of range"))?,
        )),
    }
}

pub(crate) fn request(row: &Row<'_>) -> rusqlite::Result<RightsRequest> {
    let state: String = row.get(3)?;
    Ok(RightsRequest {
        id: uuid(row, 0)?,
        subject: opt_subject(row, 1)?,
        right: row.get(2)?,
        state: RequestState::parse(&state).ok_or_else(|| bad(3, "unknown state"))?,
        jurisdiction: row.get(4)?,
        channel: row.get(5)?,
        received_at: ts(row, 6)?,
        due_at: ts(row, 7)?,
        extended_until: opt_ts(row, 8)?,
        extension_reason: row.get(9)?,
        closed_at: opt_ts(row, 10)?,
        rejection_reason: row.get(11)?,
    })
}

pub(crate) fn message(row: &Row<'_>) -> rusqlite::Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: uuid(row, 0)?,
        subject: opt_subject(row, 1)?,
        kind: row.get(2)?,
        payload: row.get(3)?,
        created_at: ts(row, 4)?,
        attempts: row.get(5)?,
        next_attempt_at: ts(row, 6)?,
        delivered_at: opt_ts(row, 7)?,
        last_error: row.get(8)?,
    })
}

fn sid(s: Option<SubjectId>) -> Option<IdText> {
    s.map(|s| IdText::new(s.0))
}

impl RequestStore for SqliteStore {
    fn put_request(
        &self,
        tenant: &TenantId,
        r: &RightsRequest,
        expected: Option<RequestState>,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            match expected {
                None => {
                    tx.prepare_cached(&format!(
                        "INSERT INTO rights_requests (tenant, {REQUEST_COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
                    ))
                    .and_then(|mut st| {
                        st.execute(params![
                            tenant.as_str(),
                            IdText::new(r.id),
                            sid(r.subject),
                            r.right,
                            r.state.as_str(),
                            r.jurisdiction,
                            r.channel,
                            micros(r.received_at),
                            micros(r.due_at),
                            r.extended_until.map(micros),
                            r.extension_reason,
                            r.closed_at.map(micros),
                            r.rejection_reason,
                        ])
                    })
                    .map_err(db)?;
                }
                Some(prev) => {
                    let n = tx
                        .prepare_cached(
                            "UPDATE rights_requests SET state = ?3, extended_until = ?4, extension_reason = ?5, \
                             closed_at = ?6, rejection_reason = ?7, subject = ?8 \
                             WHERE tenant = ?1 AND id = ?2 AND state = ?9",
                        )
                        .and_then(|mut st| {
                            st.execute(params![
                                tenant.as_str(),
                                IdText::new(r.id),
                                r.state.as_str(),
                                r.extended_until.map(micros),
                                r.extension_reason,
                                r.closed_at.map(micros),
                                r.rejection_reason,
                                sid(r.subject),
                                prev.as_str(),
                            ])
                        })
                        .map_err(db)?;
                    if n != 1 {
                        return Err(StoreError::Conflict("request changed meanwhile, or does not exist".into()));
                    }
                }
            }
            insert_outbox(tx, tenant, outbox)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn request(&self, tenant: &TenantId, id: Uuid) -> Result<Option<RightsRequest>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE tenant = ?1 AND id = ?2"
            ))
            .and_then(|mut st| {
                st.query_row(params![tenant.as_str(), IdText::new(id)], request)
                    .optional()
            })
            .map_err(db)
        })
    }

    fn requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM rights_requests WHERE tenant = ?1 \
                 ORDER BY COALESCE(extended_until, due_at), received_at"
            ))
            .and_then(|mut st| {
                st.query_map([tenant.as_str()], request)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn due_outbox(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant = ?1 AND delivered_at IS NULL \
                 AND next_attempt_at <= ?2 ORDER BY created_at LIMIT ?3"
            ))
            .and_then(|mut st| {
                st.query_map(params![tenant.as_str(), micros(now), int(limit)], message)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn outbox_of(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<OutboxMessage>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE tenant = ?1 AND subject = ?2 ORDER BY created_at"
            ))
            .and_then(|mut st| {
                st.query_map(params![tenant.as_str(), IdText::new(subject.0)], message)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn mark_outbox(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE outbox SET attempts = ?3, next_attempt_at = ?4, delivered_at = ?5, last_error = ?6, \
                     payload = ?7 WHERE tenant = ?1 AND id = ?2 AND delivered_at IS NULL",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        IdText::new(m.id),
                        m.attempts,
                        micros(m.next_attempt_at),
                        m.delivered_at.map(micros),
                        m.last_error,
                        m.payload,
                    ])
                })
                .map_err(db)?;
            if n == 1 { Ok(()) } else { Err(StoreError::Conflict("message already delivered".into())) }
        })
    }
}

/// Writes outbox messages inside the caller's transaction.
pub(crate) fn insert_outbox(
    tx: &rusqlite::Connection,
    tenant: &TenantId,
    outbox: &[OutboxMessage],
) -> Result<()> {
    for m in outbox {
        tx.prepare_cached(&format!(
            "INSERT INTO outbox (tenant, {OUTBOX_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ))
        .and_then(|mut st| {
            st.execute(params![
                tenant.as_str(),
                IdText::new(m.id),
                sid(m.subject),
                m.kind,
                m.payload,
                micros(m.created_at),
                m.attempts,
                micros(m.next_attempt_at),
                m.delivered_at.map(micros),
                m.last_error,
            ])
        })
        .map_err(db)?;
    }
    Ok(())
}
