//! `impl StatsStore + RetentionStore for SqliteStore`: anonymous aggregates, the
//! sweep's walk over expired records, retention batches and legal holds.

use std::collections::BTreeSet;

use custos_store::{
    AggregateRow, AuditDraft, AuditRef, ExpiredRecord, LegalHold, RecordId, Result,
    RetentionApplied, RetentionBatch, RetentionStore, StatsStore, StoreError, TenantId, Timestamp,
    effective_min_group, micros,
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::{self, IdText, db, int, subject_id, u64_col};
use crate::lifecycle::HELD_COLUMNS;
use crate::store::{append_audit_in, select_subject_in};

/// Whether a subject-wide legal hold is in force at `now`.
pub(crate) fn subject_held(
    conn: &Connection,
    tenant: &TenantId,
    subject: custos_store::SubjectId,
    now: Timestamp,
) -> Result<bool> {
    conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM legal_holds WHERE tenant = ?1 AND subject = ?2 \
         AND record IS NULL AND (until IS NULL OR until > ?3))",
    )
    .and_then(|mut st| {
        st.query_row(
            params![tenant.as_str(), subject_id(subject), micros(now)],
            |r| r.get::<_, bool>(0),
        )
    })
    .map_err(db)
}

fn add_aggregate(conn: &Connection, tenant: &TenantId, row: &AggregateRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO aggregates (tenant, purpose, category, bucket, count) \
         VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (tenant, purpose, category, bucket) DO UPDATE SET count = count + excluded.count",
    )
    .and_then(|mut st| {
        st.execute(params![
            tenant.as_str(),
            row.purpose,
            row.category,
            row.bucket,
            int(row.count)
        ])
    })
    .map_err(db)?;
    Ok(())
}

/// Deletes a live record; returns its (subject, category) if it was there.
fn take_record(
    conn: &Connection,
    tenant: &TenantId,
    id: RecordId,
) -> Result<Option<(String, String)>> {
    conn.prepare_cached(
        "DELETE FROM records WHERE tenant = ?1 AND id = ?2 RETURNING subject, category",
    )
    .and_then(|mut st| {
        st.query_row(params![tenant.as_str(), IdText::new(id.0)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
    })
    .map_err(db)
}

impl StatsStore for SqliteStore {
    fn add_to_aggregates(
        &self,
        tenant: &TenantId,
        rows: &[AggregateRow],
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            for row in rows {
                add_aggregate(tx, tenant, row)?;
            }
            append_audit_in(tx, tenant, audit)
        })
    }

    fn aggregates(&self, tenant: &TenantId, min_group: u64) -> Result<Vec<AggregateRow>> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT purpose, category, bucket, count FROM aggregates \
                 WHERE tenant = ?1 AND count >= ?2 ORDER BY purpose, category, bucket",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![tenant.as_str(), int(effective_min_group(min_group))],
                    |r| {
                        Ok(AggregateRow {
                            purpose: r.get(0)?,
                            category: r.get(1)?,
                            bucket: r.get(2)?,
                            count: u64_col(r, 3)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }
}

impl RetentionStore for SqliteStore {
    fn expired_records(
        &self,
        tenant: &TenantId,
        now: Timestamp,
        after: Option<(Timestamp, RecordId)>,
        limit: usize,
    ) -> Result<Vec<ExpiredRecord>> {
        // Without a cursor, start before every id at the smallest expiry.
        let (after_at, after_id) = match after {
            Some((t, id)) => (micros(t), id.0.hyphenated().to_string()),
            None => (i64::MIN, String::new()),
        };
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT r.id, r.subject, r.category, r.ciphertext, r.purpose, r.source, \
                        r.collected_at, r.expires_at, s.wrapped_dek, s.kek_version, \
                        s.state = 'restricted', \
                        EXISTS (SELECT 1 FROM legal_holds h \
                                WHERE h.tenant = r.tenant AND h.subject = r.subject \
                                  AND (h.record IS NULL OR h.record = r.id) \
                                  AND (h.until IS NULL OR h.until > ?2)) \
                 FROM records r JOIN subjects s ON s.tenant = r.tenant AND s.id = r.subject \
                 WHERE r.tenant = ?1 AND r.expires_at IS NOT NULL AND r.expires_at <= ?2 \
                   AND (r.expires_at, r.id) > (?3, ?4) \
                 ORDER BY r.expires_at, r.id LIMIT ?5",
            )
            .and_then(|mut st| {
                st.query_map(
                    params![tenant.as_str(), micros(now), after_at, after_id, int(limit)],
                    |row| {
                        Ok(ExpiredRecord {
                            record: codec::record(row)?,
                            wrapped_dek: row.get(8)?,
                            kek_version: row.get(9)?,
                            restricted: row.get(10)?,
                            held: row.get(11)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)
        })
    }

    fn apply_retention(&self, b: &RetentionBatch<'_>) -> Result<RetentionApplied> {
        // Expired values are deleted: their bytes must not survive.
        self.write_shredding(|tx| {
            let tenant = b.tenant;
            let mut out = RetentionApplied::default();
            let mut touched: BTreeSet<(String, String)> = BTreeSet::new();
            // Plain deletions in one statement: the ids as a JSON array.
            if !b.delete.is_empty() {
                let ids = serde_json::to_string(
                    &b.delete
                        .iter()
                        .map(|r| r.0.hyphenated().to_string())
                        .collect::<Vec<_>>(),
                )
                .map_err(|_| StoreError::Backend("cannot encode record ids".to_owned()))?;
                let gone = tx
                    .prepare_cached(
                        "DELETE FROM records WHERE tenant = ?1 \
                         AND id IN (SELECT value FROM json_each(?2)) RETURNING subject, category",
                    )
                    .and_then(|mut st| {
                        st.query_map(params![tenant.as_str(), ids], |r| {
                            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()
                    })
                    .map_err(db)?;
                out.deleted = u64::try_from(gone.len()).unwrap_or(u64::MAX);
                touched.extend(gone);
            }
            for (id, row) in b.anonymise {
                if let Some(k) = take_record(tx, tenant, *id)? {
                    touched.insert(k);
                    add_aggregate(tx, tenant, row)?;
                    out.anonymised += 1;
                }
            }
            for h in b.isolate {
                if let Some(k) = take_record(tx, tenant, h.id)? {
                    if k.0 != h.subject.to_string() {
                        return Err(StoreError::Conflict(
                            "an isolated record is not its subject's".to_owned(),
                        ));
                    }
                    touched.insert(k);
                    tx.prepare_cached(&format!(
                        "INSERT INTO held_records (tenant, {HELD_COLUMNS}) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                         ON CONFLICT DO NOTHING"
                    ))
                    .and_then(|mut st| {
                        st.execute(params![
                            tenant.as_str(),
                            IdText::new(h.id.0),
                            subject_id(h.subject),
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
                    out.isolated += 1;
                }
            }
            // Lookups by a value the subject no longer holds in that category stop.
            for (subject, category) in &touched {
                tx.prepare_cached(
                    "DELETE FROM blind_index WHERE tenant = ?1 AND subject = ?2 AND category = ?3 \
                     AND NOT EXISTS (SELECT 1 FROM records r WHERE r.tenant = ?1 \
                                     AND r.subject = ?2 AND r.category = ?3)",
                )
                .and_then(|mut st| st.execute(params![tenant.as_str(), subject, category]))
                .map_err(db)?;
            }
            out.audit = Some(append_audit_in(tx, tenant, b.audit)?);
            Ok(out)
        })
    }

    fn place_legal_hold(
        &self,
        tenant: &TenantId,
        hold: &LegalHold,
        audit: &AuditDraft,
    ) -> Result<AuditRef> {
        self.write(|tx| {
            if select_subject_in(tx, tenant, hold.subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            tx.prepare_cached(
                "INSERT INTO legal_holds (tenant, id, subject, record, reason, placed_at, until) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    tenant.as_str(),
                    IdText::new(hold.id),
                    subject_id(hold.subject),
                    hold.record.map(|r| IdText::new(r.0)),
                    hold.reason,
                    micros(hold.placed_at),
                    hold.until.map(micros),
                ])
            })
            .map_err(db)?;
            append_audit_in(tx, tenant, audit)
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
        self.write(|tx| {
            let n = tx
                .prepare_cached(
                    "UPDATE legal_holds SET until = ?4 WHERE tenant = ?1 AND subject = ?2 \
                     AND id = ?3 AND (until IS NULL OR until > ?4)",
                )
                .and_then(|mut st| {
                    st.execute(params![
                        tenant.as_str(),
                        subject_id(subject),
                        IdText::new(hold),
                        micros(now)
                    ])
                })
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound("legal hold".to_owned()));
            }
            append_audit_in(tx, tenant, audit)
        })
    }

    fn legal_holds(
        &self,
        tenant: &TenantId,
        subject: Option<custos_store::SubjectId>,
    ) -> Result<Vec<LegalHold>> {
        let subject = subject.map(subject_id);
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, subject, record, reason, placed_at, until FROM legal_holds \
                 WHERE tenant = ?1 AND (?2 IS NULL OR subject = ?2) ORDER BY placed_at, id",
            )
            .and_then(|mut st| {
                st.query_map(params![tenant.as_str(), subject], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, Option<i64>>(5)?,
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(db)?
            .into_iter()
            .map(|(id, subject, record, reason, placed_at, until)| {
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
                    id: uuid(&id)?,
                    subject: custos_store::SubjectId(uuid(&subject)?),
                    record: record.as_deref().map(uuid).transpose()?.map(RecordId),
                    reason,
                    placed_at: ts(placed_at)?,
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
        self.write(|tx| {
            if select_subject_in(tx, tenant, subject)?.is_none() {
                return Err(StoreError::NotFound("subject".to_owned()));
            }
            let mut n = 0u64;
            for (category, at) in expiries {
                let changed = tx
                    .prepare_cached(
                        "UPDATE records SET expires_at = ?1 WHERE tenant = ?2 AND subject = ?3 \
                         AND category = ?4 AND (?5 IS NULL OR purpose = ?5) \
                         AND (?6 = 0 OR expires_at IS NULL OR expires_at < ?1)",
                    )
                    .and_then(|mut st| {
                        st.execute(params![
                            micros(*at),
                            tenant.as_str(),
                            subject_id(subject),
                            category,
                            purpose,
                            only_later,
                        ])
                    })
                    .map_err(db)?;
                n += changed as u64;
            }
            append_audit_in(tx, tenant, audit)?;
            Ok(n)
        })
    }
}
