//! `impl ConsentStore for SqliteStore`: the append-only consent ledger.

use custos_store::{
    AuditDraft, AuditRef, ConsentEvent, ConsentKind, ConsentStore, Result, StoreError, SubjectId,
    SubjectState, TenantId, Uuid, from_micros, micros,
};
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, params};

use crate::SqliteStore;
use crate::codec::{IdText, db, hash32, subject_id};
use crate::store::{append_audit_in, select_subject_in};

pub(crate) const COLUMNS: &str = "id, subject, purpose, kind, policy_version, notice_hash, channel, ip_hash, user_agent, at, \
     recorded_by";

pub(crate) fn decode(row: &Row<'_>) -> rusqlite::Result<ConsentEvent> {
    let bad = |i: usize, what: &'static str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(what),
        )
    };
    let id: String = row.get(0)?;
    let subject: String = row.get(1)?;
    let kind: String = row.get(3)?;
    let ip: Option<Vec<u8>> = row.get(7)?;
    Ok(ConsentEvent {
        id: Uuid::try_parse(&id).map_err(|_| bad(0, "not a UUID"))?,
        subject: SubjectId(Uuid::try_parse(&subject).map_err(|_| bad(1, "not a UUID"))?),
        purpose: row.get(2)?,
        kind: ConsentKind::parse(&kind).ok_or_else(|| bad(3, "unknown consent kind"))?,
        policy_version: row.get(4)?,
        notice_hash: hash32(row, 5)?,
        channel: row.get(6)?,
        ip_hash: match ip {
            None => None,
            Some(v) => Some(
                <[u8; 32]>::try_from(v.as_slice()).map_err(|_| bad(7, "hash is not 32 bytes"))?,
            ),
        },
        user_agent: row.get(8)?,
        at: from_micros(row.get(9)?).ok_or_else(|| bad(9, "timestamp out of range"))?,
        recorded_by: row.get(10)?,
    })
}

/// Inserts one ledger event inside the caller's transaction: the one insert the
/// ledger, subject writes carrying consent and archive imports share.
pub(crate) fn insert_in(
    conn: &rusqlite::Connection,
    tenant: &TenantId,
    e: &ConsentEvent,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(&format!(
        "INSERT INTO consent_events (tenant, {COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            IdText::new(e.id),
            subject_id(e.subject),
            e.purpose,
            e.kind.as_str(),
            e.policy_version,
            e.notice_hash.as_slice(),
            e.channel,
            e.ip_hash.as_ref().map(|h| h.as_slice()),
            e.user_agent,
            micros(e.at),
            e.recorded_by,
        ])
    })
}

impl ConsentStore for SqliteStore {
    fn append_consent(
        &self,
        tenant: &TenantId,
        e: &ConsentEvent,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            match select_subject_in(tx, tenant, e.subject)? {
                Some(s) if s.state != SubjectState::Erased => {}
                _ => return Err(StoreError::NotFound("subject".to_owned())),
            }
            insert_in(tx, tenant, e).map_err(db)?;
            append_audit_in(tx, tenant, audit)
        })
    }

    fn consent_events(&self, tenant: &TenantId, subject: SubjectId) -> Result<Vec<ConsentEvent>> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM consent_events WHERE tenant = ?1 AND subject = ?2 ORDER BY at, rowid"
            ))
            .and_then(|mut st| {
                st.query_map(params![tenant.as_str(), subject_id(subject)], decode)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
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
        let kinds = serde_json::to_string(&kinds)
            .map_err(|_| StoreError::Backend("cannot encode kinds".into()))?;
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM consent_events WHERE tenant = ?1 AND subject = ?2 AND purpose = ?3 \
                 AND kind IN (SELECT value FROM json_each(?4)) ORDER BY at DESC, rowid DESC LIMIT 1"
            ))
            .and_then(|mut st| st.query_row(params![tenant.as_str(), subject_id(subject), purpose, kinds], decode).optional())
            .map_err(db)
        })
    }
}
