//! `impl ArchiveStore for PostgresStore`: a tenant listed from one
//! `REPEATABLE READ` snapshot through portals (a thousand rows at a time, so an
//! export never holds a whole table in memory), and inserted raw.

use custos_audit::GENESIS;
use custos_store::{
    AggregateRow, ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore, BlindIndexEntry, LegalHold,
    RecordId, Result, StoreError, TenantId, Uuid, micros,
};
use postgres::{IsolationLevel, Row, Transaction};

use crate::PostgresStore;
use crate::codec::{self, Session, db, get, id_text, int};
use crate::requests::{insert_outbox, insert_request, message, request};
use crate::requests::{select_outbox, select_request};
use crate::verification::{insert_challenge, select_challenge};
use crate::{contracts, incidents, lifecycle, merkle, verification};

/// Rows fetched per round trip while exporting.
const FETCH: i32 = 1000;

fn stream(
    tx: &mut Transaction<'_>,
    sql: &str,
    tenant: &str,
    sink: &mut dyn ArchiveSink,
    decode: impl Fn(&Row) -> Result<ArchiveRow>,
) -> Result<()> {
    let portal = tx.bind(sql, &[&tenant]).map_err(db)?;
    loop {
        let rows = tx.query_portal(&portal, FETCH).map_err(db)?;
        for row in &rows {
            sink.row(decode(row)?)?;
        }
        if rows.len() < usize::try_from(FETCH).unwrap_or(usize::MAX) {
            return Ok(());
        }
    }
}

fn counts_in<C: postgres::GenericClient>(
    s: &mut Session<'_, C>,
    tenant: &TenantId,
) -> Result<ArchiveCounts> {
    let row = s.query_one(
        "SELECT \
         (SELECT COUNT(*) FROM policy_versions WHERE tenant = $1), \
         (SELECT COUNT(*) FROM api_keys WHERE tenant = $1), \
         (SELECT COUNT(*) FROM subjects WHERE tenant = $1), \
         (SELECT COUNT(*) FROM records WHERE tenant = $1), \
         (SELECT COUNT(*) FROM blind_index WHERE tenant = $1), \
         (SELECT COUNT(*) FROM consent_events WHERE tenant = $1), \
         (SELECT COUNT(*) FROM rights_requests WHERE tenant = $1), \
         (SELECT COUNT(*) FROM outbox WHERE tenant = $1), \
         (SELECT COUNT(*) FROM idempotency WHERE tenant = $1), \
         (SELECT COUNT(*) FROM held_records WHERE tenant = $1), \
         (SELECT COUNT(*) FROM verification_challenges WHERE tenant = $1), \
         (SELECT COUNT(*) FROM incidents WHERE tenant = $1), \
         (SELECT COUNT(*) FROM aggregates WHERE tenant = $1), \
         (SELECT COUNT(*) FROM legal_holds WHERE tenant = $1), \
         (SELECT COUNT(*) FROM audit_log WHERE tenant = $1), \
         (SELECT COUNT(*) FROM audit_checkpoints WHERE tenant = $1), \
         (SELECT COUNT(*) FROM contracts WHERE tenant = $1)",
        &[&tenant.as_str()],
    )?;
    Ok(ArchiveCounts {
        policy_versions: codec::u64_col(&row, 0)?,
        api_keys: codec::u64_col(&row, 1)?,
        subjects: codec::u64_col(&row, 2)?,
        records: codec::u64_col(&row, 3)?,
        blind_index: codec::u64_col(&row, 4)?,
        consent_events: codec::u64_col(&row, 5)?,
        requests: codec::u64_col(&row, 6)?,
        outbox: codec::u64_col(&row, 7)?,
        idempotency: codec::u64_col(&row, 8)?,
        held_records: codec::u64_col(&row, 9)?,
        verification_challenges: codec::u64_col(&row, 10)?,
        incidents: codec::u64_col(&row, 11)?,
        aggregates: codec::u64_col(&row, 12)?,
        legal_holds: codec::u64_col(&row, 13)?,
        audit_entries: codec::u64_col(&row, 14)?,
        checkpoints: codec::u64_col(&row, 15)?,
        contracts: codec::u64_col(&row, 16)?,
    })
}

fn insert(s: &mut Session<'_, Transaction<'_>>, tenant: &TenantId, row: &ArchiveRow) -> Result<()> {
    let t = tenant.as_str();
    match row {
        ArchiveRow::Tenant(x) => {
            s.execute(
                "WITH t AS (INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3) \
                 RETURNING id) \
                 INSERT INTO audit_heads (tenant, seq, hash) SELECT id, 0, $4 FROM t",
                &[&t, &x.name, &micros(x.created_at), &GENESIS.as_slice()],
            )?;
        }
        ArchiveRow::PolicyVersion(v) => {
            s.execute(
                "INSERT INTO policy_versions (tenant, number, label, text, effective_at, \
                 published_at) VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &t,
                    &i64::from(v.number),
                    &v.label,
                    &v.text,
                    &micros(v.effective_at),
                    &micros(v.published_at),
                ],
            )?;
        }
        ArchiveRow::ApiKey(k) => {
            s.execute(
                "INSERT INTO api_keys (id, tenant, hash, label, role, purposes, admin, \
                 created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &k.id,
                    &t,
                    &k.hash.as_slice(),
                    &k.label,
                    &k.role,
                    &k.purposes,
                    &k.admin,
                    &micros(k.created_at),
                    &k.revoked_at.map(micros),
                ],
            )?;
        }
        ArchiveRow::Subject(x) => {
            s.execute(
                "INSERT INTO subjects (tenant, id, wrapped_dek, kek_version, jurisdiction, state, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &t,
                    &id_text(x.id.0),
                    &x.wrapped_dek,
                    &i64::from(x.kek_version),
                    &x.jurisdiction,
                    &x.state.as_str(),
                    &micros(x.created_at),
                    &micros(x.updated_at),
                ],
            )?;
        }
        ArchiveRow::Record(r) => {
            s.execute(
                "INSERT INTO records (tenant, id, subject, category, ciphertext, purpose, source, \
                 collected_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &t,
                    &id_text(r.id.0),
                    &id_text(r.subject.0),
                    &r.category,
                    &r.ciphertext,
                    &r.purpose,
                    &r.source,
                    &micros(r.collected_at),
                    &r.expires_at.map(micros),
                ],
            )?;
        }
        ArchiveRow::BlindIndex { subject, entry } => {
            s.execute(
                "INSERT INTO blind_index (tenant, category, hash, subject) VALUES ($1, $2, $3, $4)",
                &[
                    &t,
                    &entry.category,
                    &entry.hash.as_slice(),
                    &id_text(subject.0),
                ],
            )?;
        }
        ArchiveRow::Consent(e) => crate::consent::insert_in(s, tenant, e)?,
        ArchiveRow::Request(r) => insert_request(s, tenant, r)?,
        ArchiveRow::Outbox(m) => insert_outbox(s, tenant, m)?,
        ArchiveRow::Idempotency(r) => {
            s.execute(
                "INSERT INTO idempotency (tenant, key, request_hash, status, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &t,
                    &r.key,
                    &r.request_hash.as_slice(),
                    &i32::from(r.status),
                    &r.body,
                    &micros(r.created_at),
                ],
            )?;
        }
        ArchiveRow::Audit(e) => {
            let d = &e.draft;
            // The entry as stored, and the chain's head moved onto it only if it
            // follows the current head (an archive out of order fails here).
            let n = s.execute(
                "WITH entry AS (INSERT INTO audit_log (tenant, seq, at, actor, key_id, action, \
                 purpose, subject, categories, outcome, reason, request_id, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)) \
                 UPDATE audit_heads SET seq = $2, hash = $14 \
                 WHERE tenant = $1 AND seq = $2 - 1 AND hash = $13",
                &[
                    &t,
                    &int(e.seq),
                    &micros(d.at),
                    &d.actor,
                    &d.key_id,
                    &d.action,
                    &d.purpose,
                    &d.subject.map(|s| id_text(s.0)),
                    &d.categories,
                    &d.outcome.as_str(),
                    &d.reason,
                    &d.request_id,
                    &e.prev_hash.as_slice(),
                    &e.hash.as_slice(),
                ],
            )?;
            if n != 1 {
                return Err(StoreError::Conflict(format!(
                    "audit entry {} does not follow the chain's head",
                    e.seq
                )));
            }
        }
        ArchiveRow::HeldRecord(h) => {
            s.execute(
                "INSERT INTO held_records (tenant, id, subject, category, ciphertext, purpose, \
                 source, collected_at, held_for, reason, held_at, until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    &t,
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
        }
        ArchiveRow::Challenge(c) => insert_challenge(s, tenant, c)?,
        ArchiveRow::Incident(i) => {
            s.execute(
                "INSERT INTO incidents (tenant, id, version, document) VALUES ($1, $2, $3, $4)",
                &[&t, &id_text(i.id), &i64::from(i.version), &i.document],
            )?;
        }
        ArchiveRow::Contract(c) => {
            if contracts::insert(s, tenant, c)? != 1 {
                return Err(custos_store::StoreError::Conflict("contract exists".into()));
            }
        }
        ArchiveRow::Aggregate(a) => {
            s.execute(
                "INSERT INTO aggregates (tenant, purpose, category, bucket, count) \
                 VALUES ($1, $2, $3, $4, $5)",
                &[&t, &a.purpose, &a.category, &a.bucket, &int(a.count)],
            )?;
        }
        ArchiveRow::LegalHold(h) => {
            s.execute(
                "INSERT INTO legal_holds (tenant, id, subject, record, reason, placed_at, until) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    &t,
                    &id_text(h.id),
                    &id_text(h.subject.0),
                    &h.record.map(|r| id_text(r.0)),
                    &h.reason,
                    &micros(h.placed_at),
                    &h.until.map(micros),
                ],
            )?;
        }
        // Stored as it is: the tree it commits to is built after the import
        // (`MerkleStore::catch_up_tree`), and `custos audit verify` checks it.
        ArchiveRow::Checkpoint(c) => {
            s.execute(
                "INSERT INTO audit_checkpoints (tenant, tree_size, root_hash, timestamp, \
                 signature) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &t,
                    &int(c.checkpoint.tree_size),
                    &c.checkpoint.root_hash.as_slice(),
                    &c.checkpoint.timestamp_micros,
                    &c.signature.as_slice(),
                ],
            )?;
        }
    }
    Ok(())
}

impl ArchiveStore for PostgresStore {
    fn export_tenant(&self, tenant: &TenantId, sink: &mut dyn ArchiveSink) -> Result<()> {
        let mut conn = self.pool.get()?;
        let crate::pool::Conn { client, statements } = &mut *conn;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(db)?;
        let t = tenant.as_str();
        let (row, counts) = {
            let mut s = Session {
                client: &mut tx,
                statements,
            };
            let row = s
                .query_opt(
                    "SELECT id, name, created_at FROM tenants WHERE id = $1",
                    &[&t],
                )?
                .ok_or_else(|| StoreError::NotFound("tenant".to_owned()))?;
            (codec::tenant(&row)?, counts_in(&mut s, tenant)?)
        };
        sink.counts(&counts)?;
        sink.row(ArchiveRow::Tenant(row))?;
        let tx = &mut tx;
        stream(
            tx,
            "SELECT number, label, text, effective_at, published_at FROM policy_versions \
             WHERE tenant = $1 ORDER BY number",
            t,
            sink,
            |r| codec::policy_version(r).map(ArchiveRow::PolicyVersion),
        )?;
        stream(
            tx,
            "SELECT id, tenant, hash, label, role, purposes, admin, created_at, revoked_at \
             FROM api_keys WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| codec::api_key(r).map(ArchiveRow::ApiKey),
        )?;
        stream(
            tx,
            "SELECT id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at \
             FROM subjects WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| codec::subject(r).map(ArchiveRow::Subject),
        )?;
        stream(
            tx,
            "SELECT id, subject, category, ciphertext, purpose, source, collected_at, \
             expires_at FROM records WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| codec::record(r).map(ArchiveRow::Record),
        )?;
        stream(
            tx,
            "SELECT subject, category, hash FROM blind_index WHERE tenant = $1 \
             ORDER BY subject, category, hash",
            t,
            sink,
            |r| {
                Ok(ArchiveRow::BlindIndex {
                    subject: codec::subject_id(r, 0)?,
                    entry: BlindIndexEntry {
                        category: get(r, 1)?,
                        hash: codec::hash32(r, 2)?,
                    },
                })
            },
        )?;
        stream(
            tx,
            "SELECT id, subject, purpose, kind, policy_version, notice_hash, channel, ip_hash, \
             user_agent, at, recorded_by FROM consent_events WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| crate::consent::decode(r).map(ArchiveRow::Consent),
        )?;
        stream(
            tx,
            select_request!("WHERE tenant = $1 ORDER BY id"),
            t,
            sink,
            |r| request(r).map(ArchiveRow::Request),
        )?;
        stream(
            tx,
            select_outbox!("WHERE tenant = $1 ORDER BY id"),
            t,
            sink,
            |r| message(r).map(ArchiveRow::Outbox),
        )?;
        stream(
            tx,
            "SELECT key, request_hash, status, body, created_at FROM idempotency \
             WHERE tenant = $1 ORDER BY key",
            t,
            sink,
            |r| codec::idempotent_response(r).map(ArchiveRow::Idempotency),
        )?;
        stream(
            tx,
            lifecycle::select_held!("WHERE tenant = $1 ORDER BY id"),
            t,
            sink,
            |r| lifecycle::decode_held(r).map(ArchiveRow::HeldRecord),
        )?;
        stream(
            tx,
            select_challenge!("WHERE tenant = $1 ORDER BY id"),
            t,
            sink,
            |r| verification::decode(r).map(ArchiveRow::Challenge),
        )?;
        stream(
            tx,
            "SELECT id, version, document FROM incidents WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| incidents::decode(r).map(ArchiveRow::Incident),
        )?;
        stream(
            tx,
            "SELECT id, subject, kind, status, state, next_due, version, created_at, \
             updated_at FROM contracts WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| contracts::decode(r).map(ArchiveRow::Contract),
        )?;
        stream(
            tx,
            "SELECT purpose, category, bucket, count FROM aggregates WHERE tenant = $1 \
             ORDER BY purpose, category, bucket",
            t,
            sink,
            |r| {
                Ok(ArchiveRow::Aggregate(AggregateRow {
                    purpose: get(r, 0)?,
                    category: get(r, 1)?,
                    bucket: get(r, 2)?,
                    count: codec::u64_col(r, 3)?,
                }))
            },
        )?;
        stream(
            tx,
            "SELECT id, subject, record, reason, placed_at, until FROM legal_holds \
             WHERE tenant = $1 ORDER BY id",
            t,
            sink,
            |r| {
                Ok(ArchiveRow::LegalHold(LegalHold {
                    id: codec::uuid(r, 0)?,
                    subject: codec::subject_id(r, 1)?,
                    record: match get::<Option<&str>>(r, 2)? {
                        None => None,
                        Some(s) => Some(RecordId(Uuid::try_parse(s).map_err(|_| {
                            StoreError::Corrupt("column 2: not a UUID".to_owned())
                        })?)),
                    },
                    reason: get(r, 3)?,
                    placed_at: codec::ts(r, 4)?,
                    until: codec::opt_ts(r, 5)?,
                }))
            },
        )?;
        stream(
            tx,
            "SELECT seq, at, actor, key_id, action, purpose, subject, categories, outcome, \
             reason, request_id, prev_hash, hash FROM audit_log WHERE tenant = $1 ORDER BY seq",
            t,
            sink,
            |r| codec::audit_entry(r).map(ArchiveRow::Audit),
        )?;
        stream(
            tx,
            "SELECT tenant, tree_size, root_hash, timestamp, signature FROM audit_checkpoints \
             WHERE tenant = $1 ORDER BY tree_size",
            t,
            sink,
            |r| merkle::checkpoint_row(r).map(ArchiveRow::Checkpoint),
        )?;
        Ok(())
    }

    fn import_rows(&self, tenant: &TenantId, rows: &[ArchiveRow]) -> Result<()> {
        self.write(|s| {
            for row in rows {
                insert(s, tenant, row)?;
            }
            Ok(())
        })
    }

    fn archive_counts(&self, tenant: &TenantId) -> Result<ArchiveCounts> {
        self.run(|s| counts_in(s, tenant))
    }
}
