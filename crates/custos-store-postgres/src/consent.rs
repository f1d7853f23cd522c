//! `impl ConsentStore for PostgresStore`: the append-only consent ledger, with
//! the SQLite backend's semantics.

use custos_store::{
    AuditDraft, AuditRef, ConsentEvent, ConsentKind, ConsentStore, Result, StoreError, SubjectId,
    TenantId, Uuid, from_micros, micros,
};
use postgres::Row;

use crate::PostgresStore;
use crate::codec::{self, get, id_text};
use crate::store::{append_audit, require_live_subject};

/// The columns in the order [`decode`] reads them, then `$tail`.
macro_rules! select_consent {
    ($tail:literal) => {
        concat!(
            "SELECT id, subject, purpose, kind, policy_version, notice_hash, channel, ip_hash, \
             user_agent, at, recorded_by FROM consent_events ",
            $tail
        )
    };
}

fn corrupt(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("consent_events column {idx}: {what}"))
}

pub(crate) fn decode(row: &Row) -> Result<ConsentEvent> {
    let ip_hash = match get::<Option<&[u8]>>(row, 7)? {
        None => None,
        Some(v) => Some(<[u8; 32]>::try_from(v).map_err(|_| corrupt(7, "expected 32 bytes"))?),
    };
    Ok(ConsentEvent {
        id: Uuid::try_parse(get(row, 0)?).map_err(|_| corrupt(0, "not a UUID"))?,
        subject: codec::subject_id(row, 1)?,
        purpose: get(row, 2)?,
        kind: ConsentKind::parse(get(row, 3)?).ok_or_else(|| corrupt(3, "unknown consent kind"))?,
        policy_version: u32::try_from(get::<i64>(row, 4)?)
            .map_err(|_| corrupt(4, "out of range for u32"))?,
        notice_hash: codec::hash32(row, 5)?,
        channel: get(row, 6)?,
        ip_hash,
        user_agent: get(row, 8)?,
        at: from_micros(get(row, 9)?).ok_or_else(|| corrupt(9, "timestamp out of range"))?,
        recorded_by: get(row, 10)?,
    })
}

/// Inserts one ledger event inside the caller's transaction: the one insert the
/// ledger, subject writes carrying consent and archive imports share.
pub(crate) fn insert_in<C: postgres::GenericClient>(
    s: &mut crate::codec::Session<'_, C>,
    tenant: &TenantId,
    e: &ConsentEvent,
) -> Result<()> {
    s.execute(
        "INSERT INTO consent_events (tenant, id, subject, purpose, kind, policy_version, \
         notice_hash, channel, ip_hash, user_agent, at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &tenant.as_str(),
            &id_text(e.id),
            &id_text(e.subject.0),
            &e.purpose,
            &e.kind.as_str(),
            &i64::from(e.policy_version),
            &e.notice_hash.as_slice(),
            &e.channel,
            &e.ip_hash.as_ref().map(|h| h.as_slice()),
            &e.user_agent,
            &micros(e.at),
            &e.recorded_by,
        ],
    )?;
    Ok(())
}

impl ConsentStore for PostgresStore {
    fn append_consent(
        &self,
        tenant: &TenantId,
        e: &ConsentEvent,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            require_live_subject(s, tenant, e.subject)?;
            insert_in(s, tenant, e)?;
            append_audit(s, tenant, audit)
        })
    }

    fn consent_events(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<ConsentEvent>> {
        self.run(|s| {
            s.query(
                select_consent!("WHERE tenant = $1 AND subject = $2 ORDER BY at, ord"),
                &[&tenant.as_str(), &id_text(subject.0)],
            )?
            .iter()
            .map(decode)
            .collect()
        })
    }

    fn latest_consent(
        &self,
        tenant: &TenantId,
        subject: SubjectId,
        purpose: &str,
        kinds: &[ConsentKind],
    ) -> Result<Option<ConsentEvent>> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        self.run(|s| {
            s.query_opt(
                select_consent!(
                    "WHERE tenant = $1 AND subject = $2 AND purpose = $3 AND kind = ANY($4) \
                     ORDER BY at DESC, ord DESC LIMIT 1"
                ),
                &[&tenant.as_str(), &id_text(subject.0), &purpose, &kinds],
            )?
            .as_ref()
            .map(decode)
            .transpose()
        })
    }
}
