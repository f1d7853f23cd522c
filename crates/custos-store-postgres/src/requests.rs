//! `impl RequestStore for PostgresStore`: rights requests and the outbox, with
//! the SQLite backend's semantics (tables in `V4__leases.sql`).

use custos_store::{
    AuditDraft, AuditRef, OutboxMessage, RequestState, RequestStore, Result, RightsRequest,
    StoreError, SubjectId, TenantId, Timestamp, Uuid, from_micros, micros,
};
use postgres::Row;

use crate::PostgresStore;
use crate::codec::{get, id_text, int};
use crate::store::append_audit;

/// The request columns in the order [`request`] reads them, then `$tail`.
macro_rules! select_request {
    ($tail:literal) => {
        concat!(
            "SELECT id, subject, right_kind, state, jurisdiction, channel, received_at, due_at, \
             extended_until, extension_reason, closed_at, rejection_reason FROM rights_requests ",
            $tail
        )
    };
}
pub(crate) use select_request;

/// The outbox columns in the order [`message`] reads them, then `$tail`.
macro_rules! select_outbox {
    ($tail:literal) => {
        concat!(
            "SELECT id, subject, kind, payload, created_at, attempts, next_attempt_at, \
             delivered_at, last_error FROM outbox ",
            $tail
        )
    };
}
pub(crate) use select_outbox;

fn corrupt(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column {idx}: {what}"))
}

fn uuid(row: &Row, i: usize) -> Result<Uuid> {
    Uuid::try_parse(get::<&str>(row, i)?).map_err(|_| corrupt(i, "not a UUID"))
}

fn opt_subject(row: &Row, i: usize) -> Result<Option<SubjectId>> {
    match get::<Option<&str>>(row, i)? {
        None => Ok(None),
        Some(s) => Ok(Some(SubjectId(
            Uuid::try_parse(s).map_err(|_| corrupt(i, "not a UUID"))?,
        ))),
    }
}

fn ts(row: &Row, i: usize) -> Result<Timestamp> {
    from_micros(get(row, i)?).ok_or_else(|| corrupt(i, "timestamp out of range"))
}

fn opt_ts(row: &Row, i: usize) -> Result<Option<Timestamp>> {
    match get::<Option<i64>>(row, i)? {
        None => Ok(None),
        Some(v) => Ok(Some(
            from_micros(v).ok_or_else(|| corrupt(i, "timestamp out of range"))?,
        )),
    }
}

pub(crate) fn request(row: &Row) -> Result<RightsRequest> {
    Ok(RightsRequest {
        id: uuid(row, 0)?,
        subject: opt_subject(row, 1)?,
        right: get(row, 2)?,
        state: RequestState::parse(get(row, 3)?).ok_or_else(|| corrupt(3, "unknown state"))?,
        jurisdiction: get(row, 4)?,
        channel: get(row, 5)?,
        received_at: ts(row, 6)?,
        due_at: ts(row, 7)?,
        extended_until: opt_ts(row, 8)?,
        extension_reason: get(row, 9)?,
        closed_at: opt_ts(row, 10)?,
        rejection_reason: get(row, 11)?,
    })
}

pub(crate) fn message(row: &Row) -> Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: uuid(row, 0)?,
        subject: opt_subject(row, 1)?,
        kind: get(row, 2)?,
        payload: get(row, 3)?,
        created_at: ts(row, 4)?,
        attempts: u32::try_from(get::<i64>(row, 5)?)
            .map_err(|_| corrupt(5, "out of range for u32"))?,
        next_attempt_at: ts(row, 6)?,
        delivered_at: opt_ts(row, 7)?,
        last_error: get(row, 8)?,
    })
}

fn sid(s: Option<SubjectId>) -> Option<String> {
    s.map(|s| id_text(s.0))
}

pub(crate) const INSERT_REQUEST: &str = "INSERT INTO rights_requests (tenant, id, subject, \
     right_kind, state, jurisdiction, channel, received_at, due_at, extended_until, \
     extension_reason, closed_at, rejection_reason) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";

pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO outbox (tenant, id, subject, kind, payload, \
     created_at, attempts, next_attempt_at, delivered_at, last_error) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

pub(crate) fn insert_request<C: postgres::GenericClient>(
    s: &mut crate::codec::Session<'_, C>,
    tenant: &TenantId,
    r: &RightsRequest,
) -> Result<()> {
    s.execute(
        INSERT_REQUEST,
        &[
            &tenant.as_str(),
            &id_text(r.id),
            &sid(r.subject),
            &r.right,
            &r.state.as_str(),
            &r.jurisdiction,
            &r.channel,
            &micros(r.received_at),
            &micros(r.due_at),
            &r.extended_until.map(micros),
            &r.extension_reason,
            &r.closed_at.map(micros),
            &r.rejection_reason,
        ],
    )?;
    Ok(())
}

pub(crate) fn insert_outbox<C: postgres::GenericClient>(
    s: &mut crate::codec::Session<'_, C>,
    tenant: &TenantId,
    m: &OutboxMessage,
) -> Result<()> {
    s.execute(
        INSERT_OUTBOX,
        &[
            &tenant.as_str(),
            &id_text(m.id),
            &sid(m.subject),
            &m.kind,
            &m.payload,
            &micros(m.created_at),
            &i64::from(m.attempts),
            &micros(m.next_attempt_at),
            &m.delivered_at.map(micros),
            &m.last_error,
        ],
    )?;
    Ok(())
}

impl RequestStore for PostgresStore {
    fn put_request(
        &self,
        tenant: &TenantId,
        r: &RightsRequest,
        expected: Option<RequestState>,
        outbox: &[OutboxMessage],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            match expected {
                None => insert_request(s, tenant, r)?,
                Some(prev) => {
                    let n = s.execute(
                        "UPDATE rights_requests SET state = $3, extended_until = $4, \
                         extension_reason = $5, closed_at = $6, rejection_reason = $7, \
                         subject = $8 WHERE tenant = $1 AND id = $2 AND state = $9",
                        &[
                            &tenant.as_str(),
                            &id_text(r.id),
                            &r.state.as_str(),
                            &r.extended_until.map(micros),
                            &r.extension_reason,
                            &r.closed_at.map(micros),
                            &r.rejection_reason,
                            &sid(r.subject),
                            &prev.as_str(),
                        ],
                    )?;
                    if n != 1 {
                        return Err(StoreError::Conflict(
                            "request changed meanwhile, or does not exist".into(),
                        ));
                    }
                }
            }
            for m in outbox {
                insert_outbox(s, tenant, m)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn request(&self, tenant: &TenantId, id: Uuid) -> Result<Option<RightsRequest>> {
        self.run(|s| {
            s.query_opt(
                select_request!("WHERE tenant = $1 AND id = $2"),
                &[&tenant.as_str(), &id_text(id)],
            )?
            .as_ref()
            .map(request)
            .transpose()
        })
    }

    fn requests(&self, tenant: &TenantId) -> Result<Vec<RightsRequest>> {
        self.run(|s| {
            s.query(
                select_request!(
                    "WHERE tenant = $1 ORDER BY COALESCE(extended_until, due_at), received_at"
                ),
                &[&tenant.as_str()],
            )?
            .iter()
            .map(request)
            .collect()
        })
    }

    fn due_outbox(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>> {
        self.run(|s| {
            s.query(
                select_outbox!(
                    "WHERE tenant = $1 AND delivered_at IS NULL AND next_attempt_at <= $2 \
                     ORDER BY created_at LIMIT $3"
                ),
                &[&tenant.as_str(), &micros(now), &int(limit)],
            )?
            .iter()
            .map(message)
            .collect()
        })
    }

    fn outbox_of(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<OutboxMessage>> {
        self.run(|s| {
            s.query(
                select_outbox!("WHERE tenant = $1 AND subject = $2 ORDER BY created_at"),
                &[&tenant.as_str(), &id_text(subject.0)],
            )?
            .iter()
            .map(message)
            .collect()
        })
    }

    fn mark_outbox(&self, tenant: &TenantId, m: &OutboxMessage) -> Result<()> {
        let n = self.run(|s| {
            s.execute(
                "UPDATE outbox SET attempts = $3, next_attempt_at = $4, delivered_at = $5, \
                 last_error = $6, payload = $7 WHERE tenant = $1 AND id = $2 AND delivered_at IS NULL",
                &[
                    &tenant.as_str(),
                    &id_text(m.id),
                    &i64::from(m.attempts),
                    &micros(m.next_attempt_at),
                    &m.delivered_at.map(micros),
                    &m.last_error,
                    &m.payload,
                ],
            )
        })?;
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::Conflict("message already delivered".into()))
        }
    }
}
