//! `impl StatsStore + RetentionStore for PostgresStore`, with the SQLite
//! backend's semantics. A retention batch deletes each record with `RETURNING`,
//! so a record erased or swept by another instance meanwhile is simply skipped
//! (and its aggregate contribution with it).

use std::collections::BTreeSet;

use custos_store::{
    AggregateRow, AuditDraft, AuditRef, ExpiredRecord, LegalHold, RecordId, Result,
    RetentionApplied, RetentionBatch, RetentionStore, StatsStore, StoreError, TenantId, Timestamp,
    effective_min_group, micros,
};
use postgres::Transaction;

use crate::PostgresStore;
use crate::codec::{self, Session, get, id_text, int, u32_col, u64_col};
use crate::store::{append_audit, select_subject};

type Tx<'s, 'c> = Session<'s, Transaction<'c>>;

/// Whether a subject-wide legal hold is in force at `now`.
pub(crate) fn subject_held<C: postgres::GenericClient>(
    s: &mut Session<'_, C>,
    tenant: &TenantId,
    subject: custos_store::SubjectId,
    now: Timestamp,
) -> Result<bool> {
    let row = s.query_one(
        "SELECT EXISTS (SELECT 1 FROM legal_holds WHERE tenant = $1 AND subject = $2 \
         AND record IS NULL AND (until IS NULL OR until > $3))",
        &[&tenant.as_str(), &id_text(subject.0), &micros(now)],
    )?;
    get(&row, 0)
}

fn add_aggregate(s: &mut Tx<'_, '_>, tenant: &TenantId, row: &AggregateRow) -> Result<()> {
    s.execute(
        "INSERT INTO aggregates (tenant, purpose, category, bucket, count) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant, purpose, category, bucket) \
         DO UPDATE SET count = aggregates.count + EXCLUDED.count",
        &[
            &tenant.as_str(),
            &row.purpose,
            &row.category,
            &row.bucket,
            &int(row.count),
        ],
    )?;
    Ok(())
}

fn take_record(
    s: &mut Tx<'_, '_>,
    tenant: &TenantId,
    id: RecordId,
) -> Result<Option<(String, String)>> {
    let row = s.query_opt(
        "DELETE FROM records WHERE tenant = $1 AND id = $2 RETURNING subject, category",
        &[&tenant.as_str(), &id_text(id.0)],
    )?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some((get::<String>(&r, 0)?, get::<String>(&r, 1)?))),
    }
}

impl StatsStore for PostgresStore {
    fn add_to_aggregates(
        &self,
        tenant: &TenantId,
        rows: &[AggregateRow],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            for row in rows {
                add_aggregate(s, tenant, row)?;
            }
            append_audit(s, tenant, audit)
        })
    }

    fn aggregates(&self, tenant: &TenantId, min_group: u64) -> Result<Vec<AggregateRow>> {
        self.run(|s| {
            s.query(
                "SELECT purpose, category, bucket, count FROM aggregates \
                 WHERE tenant = $1 AND count >= $2 ORDER BY purpose, category, bucket",
                &[&tenant.as_str(), &int(effective_min_group(min_group))],
            )?
            .iter()
            .map(|r| {
                Ok(AggregateRow {
                    purpose: get(r, 0)?,
                    category: get(r, 1)?,
                    bucket: get(r, 2)?,
                    count: u64_col(r, 3)?,
                })
            })
            .collect()
        })
    }
}

impl RetentionStore for PostgresStore {
    fn expired_records(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        after: Option<(Timestamp, RecordId)>,
        limit: usize,
    ) -> Result<Vec<ExpiredRecord>> {
        let (after_at, after_id) = match after {
            Some((t, id)) => (micros(t), id_text(id.0)),
            None => (i64::MIN, String::new()),
        };
        self.run(|s| {
            s.query(
                "SELECT r.id, r.subject, r.category, r.ciphertext, r.purpose, r.source, \
                        r.collected_at, r.expires_at, s.wrapped_dek, s.kek_version, \
                        s.state = 'restricted', \
                        EXISTS (SELECT 1 FROM legal_holds h \
                                WHERE h.tenant = r.tenant AND h.subject = r.subject \
                                  AND (h.record IS NULL OR h.record = r.id) \
                                  AND (h.until IS NULL OR h.until > $2)) \
                 FROM records r JOIN subjects s ON s.tenant = r.tenant AND s.id = r.subject \
                 WHERE r.tenant = $1 AND r.expires_at IS NOT NULL AND r.expires_at <= $2 \
                   AND (r.expires_at, r.id) > ($3, $4) \
                 ORDER BY r.expires_at, r.id LIMIT $5",
                &[
                    &tenant.as_str(),
                    &micros(now),
                    &after_at,
                    &after_id,
                    &int(limit),
                ],
            )?
            .iter()
            .map(|row| {
                Ok(ExpiredRecord {
                    record: codec::record(row)?,
                    wrapped_dek: get(row, 8)?,
                    kek_version: u32_col(row, 9)?,
                    restricted: get(row, 10)?,
                    held: get(row, 11)?,
                })
            })
            .collect()
        })
    }

    fn apply_retention(&self, b: &RetentionBatch<'_>) -> Result<RetentionApplied> {
        self.write_shredding(|s| {
            let tenant = b.tenant;
            let mut out = RetentionApplied::default();
            let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
            for id in b.delete {
                if let Some(k) = take_record(s, tenant, *id)? {
                    touched.insert(k);
                    out.deleted += 1;
                }
            }
            for (id, row) in b.anonymise {
                if let Some(k) = take_record(s, tenant, *id)? {
                    touched.insert(k);
                    add_aggregate(s, tenant, row)?;
                    out.anonymised += 1;
                }
            }
            for h in b.isolate {
                if let Some(k) = take_record(s, tenant, h.id)? {
                    if k.0 != id_text(h.subject.0) {
                        return Err(StoreError::Conflict(
                            "an isolated record is not its subject's".to_owned(),
                        ));
                    }
                    touched.insert(k);
                    s.execute(
                        "INSERT INTO held_records (tenant, id, subject, category, ciphertext, \
                         purpose, source, collected_at, held_for, reason, held_at, until) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                         ON CONFLICT DO NOTHING",
                        &[
                            &tenant.as_str(),
                            &id_text(h.id.0),
                            &id_text(h.subject.0),
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
                    out.isolated += 1;
                }
            }
            for (subject, category) in &touched {
                s.execute(
                    "DELETE FROM blind_index WHERE tenant = $1 AND subject = $2 AND category = $3 \
                     AND NOT EXISTS (SELECT 1 FROM records r WHERE r.tenant = $1 \
                                     AND r.subject = $2 AND r.category = $3)",
                    &[&tenant.as_str(), subject, category],
                )?;
            }
            out.audit = Some(append_audit(s, tenant, b.audit)?);
            Ok(out)
        })
    }

    fn place_legal_hold(
        &self,
        tenant: &TenantId,
        hold: &LegalHold,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            if select_subject(s, tenant, hold.subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            s.execute(
                "INSERT INTO legal_holds (tenant, id, subject, record, reason, placed_at, until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &tenant.as_str(),
                    &id_text(hold.id),
                    &id_text(hold.subject.0),
                    &hold.record.map(|r| id_text(r.0)),
                    &hold.reason,
                    &micros(hold.placed_at),
                    &hold.until.map(micros),
                ],
            )?;
            append_audit(s, tenant, audit)
        })
    }

    fn lift_legal_hold(
        &self,
        tenant: &TenantId,
        subject: custos_store::SubjectId,
        hold: custos_store::Uuid,
        now: Timestamp,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|s| {
            let n = s.execute(
                "UPDATE legal_holds SET until = $4 WHERE tenant = $1 AND subject = $2 \
                 AND id = $3 AND (until IS NULL OR until > $4)",
                &[
                    &tenant.as_str(),
                    &id_text(subject.0),
                    &id_text(hold),
                    &micros(now),
                ],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound("legal hold".to_owned()));
            }
            append_audit(s, tenant, audit)
        })
    }

    fn legal_holds(
        &self,
        tenant: &TenantId,
        subject: Option<custos_store::SubjectId>,
    ) -> Result<Vec<LegalHold>> {
        let subject = subject.map(|s| id_text(s.0));
        self.run(|s| {
            let rows = s.query(
                "SELECT id, subject, record, reason, placed_at, until FROM legal_holds \
                 WHERE tenant = $1 AND ($2::TEXT IS NULL OR subject = $2) ORDER BY placed_at, id",
                &[&tenant.as_str(), &subject],
            )?;
            rows.iter()
                .map(|r| {
                    let record: Option<&str> = get(r, 2)?;
                    let until: Option<i64> = get(r, 5)?;
                    let uuid = |s: &str| {
                        custos_store::Uuid::try_parse(s).map_err(|_| {
                            StoreError::Backend("a legal hold id is not a UUID".to_owned())
                        })
                    };
                    let ts = |m: i64| {
                        Timestamp::from_microsecond(m).map_err(|_| {
                            StoreError::Backend("a legal hold time is out of range".to_owned())
                        })
                    };
                    Ok(LegalHold {
                        id: uuid(get(r, 0)?)?,
                        subject: custos_store::SubjectId(uuid(get(r, 1)?)?),
                        record: record.map(uuid).transpose()?.map(RecordId),
                        reason: get(r, 3)?,
                        placed_at: ts(get(r, 4)?)?,
                        until: until.map(ts).transpose()?,
                    })
                })
                .collect()
        })
    }

    fn set_expiry(
        &self,
        tenant: &TenantId,
        subject: custos_store::SubjectId,
        expiries: &[(String, Timestamp)],
        purpose: Option<&str>,
        only_later: bool,
        audit: &AuditDraft,
    ) -> Result<u64> {
        self.write(|s| {
            if select_subject(s, tenant, subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            let mut n = 0u64;
            for (category, at) in expiries {
                n += s.execute(
                    "UPDATE records SET expires_at = $1 WHERE tenant = $2 AND subject = $3 \
                     AND category = $4 AND ($5::TEXT IS NULL OR purpose = $5) \
                     AND (NOT $6 OR expires_at IS NULL OR expires_at < $1)",
                    &[
                        &micros(*at),
                        &tenant.as_str(),
                        &id_text(subject.0),
                        category,
                        &purpose,
                        &only_later,
                    ],
                )?;
            }
            append_audit(s, tenant, audit)?;
            Ok(n)
        })
    }
}
