//! `impl ArchiveStore for SqliteStore`: a tenant listed from one read
//! transaction (one WAL snapshot), and inserted raw.

use custos_store::{
    AggregateRow, ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore, BlindIndexEntry, LegalHold,
    RecordId, Result, StoreError, SubjectId, TenantId, Uuid, from_micros, micros,
};
use rusqlite::{Connection, Row, Rows, params};

use crate::SqliteStore;
use crate::codec::{self, IdText, db, int, json_list};
use crate::{consent, contracts, incidents, lifecycle, merkle, requests, verification};

/// The columns of `legal_holds` after its tenant, in [`decode_hold`]'s order.
const HOLD_COLUMNS: &str = "id, subject, record, reason, placed_at, until";

fn decode_hold(row: &Row<'_>) -> rusqlite::Result<LegalHold> {
    let bad = |i: usize, what: &'static str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(what),
        )
    };
    let id = |i: usize| -> rusqlite::Result<Uuid> {
        let s: String = row.get(i)?;
        Uuid::try_parse(&s).map_err(|_| bad(i, "not a UUID"))
    };
    let ts = |us: i64, i: usize| from_micros(us).ok_or_else(|| bad(i, "timestamp out of range"));
    let record: Option<String> = row.get(2)?;
    let until: Option<i64> = row.get(5)?;
    Ok(LegalHold {
        id: id(0)?,
        subject: SubjectId(id(1)?),
        record: match record {
            None => None,
            Some(s) => Some(RecordId(
                Uuid::try_parse(&s).map_err(|_| bad(2, "not a UUID"))?,
            )),
        },
        reason: row.get(3)?,
        placed_at: ts(row.get(4)?, 4)?,
        until: until.map(|us| ts(us, 5)).transpose()?,
    })
}

/// Feeds every row of `rows` through `decode` to the sink.
fn each(
    mut rows: Rows<'_>,
    sink: &mut dyn ArchiveSink,
    decode: impl Fn(&Row<'_>) -> rusqlite::Result<ArchiveRow>,
) -> Result<()> {
    while let Some(row) = rows.next().map_err(db)? {
        sink.row(decode(row).map_err(db)?)?;
    }
    Ok(())
}

fn counts_in(conn: &Connection, tenant: &TenantId) -> Result<ArchiveCounts> {
    conn.prepare_cached(
        "SELECT \
         (SELECT COUNT(*) FROM policy_versions WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM api_keys WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM subjects WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM records WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM blind_index WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM consent_events WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM rights_requests WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM outbox WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM idempotency WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM held_records WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM verification_challenges WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM incidents WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM aggregates WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM legal_holds WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM audit_log WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM audit_checkpoints WHERE tenant = ?1), \
         (SELECT COUNT(*) FROM contracts WHERE tenant = ?1)",
    )
    .and_then(|mut st| {
        st.query_row([tenant.as_str()], |row| {
            Ok(ArchiveCounts {
                policy_versions: codec::u64_col(row, 0)?,
                api_keys: codec::u64_col(row, 1)?,
                subjects: codec::u64_col(row, 2)?,
                records: codec::u64_col(row, 3)?,
                blind_index: codec::u64_col(row, 4)?,
                consent_events: codec::u64_col(row, 5)?,
                requests: codec::u64_col(row, 6)?,
                outbox: codec::u64_col(row, 7)?,
                idempotency: codec::u64_col(row, 8)?,
                held_records: codec::u64_col(row, 9)?,
                verification_challenges: codec::u64_col(row, 10)?,
                incidents: codec::u64_col(row, 11)?,
                aggregates: codec::u64_col(row, 12)?,
                legal_holds: codec::u64_col(row, 13)?,
                audit_entries: codec::u64_col(row, 14)?,
                checkpoints: codec::u64_col(row, 15)?,
                contracts: codec::u64_col(row, 16)?,
            })
        })
    })
    .map_err(db)
}

fn export_in(conn: &Connection, tenant: &TenantId, sink: &mut dyn ArchiveSink) -> Result<()> {
    let t = tenant.as_str();
    let row = conn
        .prepare("SELECT id, name, created_at FROM tenants WHERE id = ?1")
        .and_then(|mut st| {
            let mut rows = st.query([t])?;
            rows.next()?.map(codec::tenant).transpose()
        })
        .map_err(db)?
        .ok_or_else(|| StoreError::NotFound("tenant".to_owned()))?;
    sink.counts(&counts_in(conn, tenant)?)?;
    sink.row(ArchiveRow::Tenant(row))?;

    macro_rules! table {
        ($sql:expr, $decode:expr) => {{
            let mut st = conn.prepare($sql).map_err(db)?;
            let rows = st.query([t]).map_err(db)?;
            each(rows, sink, $decode)?;
        }};
    }
    table!(
        "SELECT number, label, text, effective_at, published_at FROM policy_versions \
         WHERE tenant = ?1 ORDER BY number",
        |r| codec::policy_version(r).map(ArchiveRow::PolicyVersion)
    );
    table!(
        "SELECT id, tenant, hash, label, role, purposes, admin, created_at, revoked_at \
         FROM api_keys WHERE tenant = ?1 ORDER BY id",
        |r| codec::api_key(r).map(ArchiveRow::ApiKey)
    );
    table!(
        "SELECT id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at \
         FROM subjects WHERE tenant = ?1 ORDER BY id",
        |r| codec::subject(r).map(ArchiveRow::Subject)
    );
    table!(
        "SELECT id, subject, category, ciphertext, purpose, source, collected_at, expires_at \
         FROM records WHERE tenant = ?1 ORDER BY id",
        |r| codec::record(r).map(ArchiveRow::Record)
    );
    table!(
        "SELECT subject, category, hash FROM blind_index WHERE tenant = ?1 \
         ORDER BY subject, category, hash",
        |r| {
            let s: String = r.get(0)?;
            let id = Uuid::try_parse(&s).map_err(|_| {
                rusqlite::Error::InvalidColumnType(0, "subject".into(), rusqlite::types::Type::Text)
            })?;
            Ok(ArchiveRow::BlindIndex {
                subject: SubjectId(id),
                entry: BlindIndexEntry {
                    category: r.get(1)?,
                    hash: codec::hash32(r, 2)?,
                },
            })
        }
    );
    table!(
        &format!(
            "SELECT {} FROM consent_events WHERE tenant = ?1 ORDER BY id",
            consent::COLUMNS
        ),
        |r| consent::decode(r).map(ArchiveRow::Consent)
    );
    table!(
        &format!(
            "SELECT {} FROM rights_requests WHERE tenant = ?1 ORDER BY id",
            requests::REQUEST_COLUMNS
        ),
        |r| requests::request(r).map(ArchiveRow::Request)
    );
    table!(
        &format!(
            "SELECT {} FROM outbox WHERE tenant = ?1 ORDER BY id",
            requests::OUTBOX_COLUMNS
        ),
        |r| requests::message(r).map(ArchiveRow::Outbox)
    );
    table!(
        "SELECT key, request_hash, status, body, created_at FROM idempotency \
         WHERE tenant = ?1 ORDER BY key",
        |r| codec::idempotent_response(r).map(ArchiveRow::Idempotency)
    );
    table!(
        &format!(
            "SELECT {} FROM held_records WHERE tenant = ?1 ORDER BY id",
            lifecycle::HELD_COLUMNS
        ),
        |r| lifecycle::decode_held(r).map(ArchiveRow::HeldRecord)
    );
    table!(
        &format!(
            "SELECT {} FROM verification_challenges WHERE tenant = ?1 ORDER BY id",
            verification::COLUMNS
        ),
        |r| verification::decode(r).map(ArchiveRow::Challenge)
    );
    table!(
        "SELECT id, version, document FROM incidents WHERE tenant = ?1 ORDER BY id",
        |r| incidents::decode(r).map(ArchiveRow::Incident)
    );
    table!(
        &format!(
            "SELECT {} FROM contracts WHERE tenant = ?1 ORDER BY id",
            contracts::CONTRACT_COLUMNS
        ),
        |r| contracts::decode(r).map(ArchiveRow::Contract)
    );
    table!(
        "SELECT purpose, category, bucket, count FROM aggregates WHERE tenant = ?1 \
         ORDER BY purpose, category, bucket",
        |r| {
            Ok(ArchiveRow::Aggregate(AggregateRow {
                purpose: r.get(0)?,
                category: r.get(1)?,
                bucket: r.get(2)?,
                count: codec::u64_col(r, 3)?,
            }))
        }
    );
    table!(
        &format!(
            "SELECT {} FROM legal_holds WHERE tenant = ?1 ORDER BY id",
            HOLD_COLUMNS
        ),
        |r| decode_hold(r).map(ArchiveRow::LegalHold)
    );
    table!(
        "SELECT seq, at, actor, key_id, action, purpose, subject, categories, outcome, \
         reason, request_id, prev_hash, hash FROM audit_log WHERE tenant = ?1 ORDER BY seq",
        |r| codec::audit_entry(r).map(ArchiveRow::Audit)
    );
    table!(
        "SELECT tenant, tree_size, root_hash, timestamp, signature FROM audit_checkpoints \
         WHERE tenant = ?1 ORDER BY tree_size",
        |r| merkle::checkpoint_row(r).map(ArchiveRow::Checkpoint)
    );
    Ok(())
}

fn insert(tx: &Connection, tenant: &TenantId, row: &ArchiveRow) -> Result<()> {
    // Lists of names are stored as JSON text.
    let list = match row {
        ArchiveRow::ApiKey(k) => json_list(&k.purposes)?,
        ArchiveRow::Audit(e) => json_list(&e.draft.categories)?,
        _ => String::new(),
    };
    insert_raw(tx, tenant, row, list).map_err(db)?;
    Ok(())
}

fn insert_raw(
    tx: &Connection,
    tenant: &TenantId,
    row: &ArchiveRow,
    list: String,
) -> rusqlite::Result<usize> {
    let t = tenant.as_str();
    match row {
        ArchiveRow::Tenant(x) => tx
            .prepare_cached("INSERT INTO tenants (id, name, created_at) VALUES (?1, ?2, ?3)")?
            .execute(params![t, x.name, micros(x.created_at)]),
        ArchiveRow::PolicyVersion(v) => tx
            .prepare_cached(
                "INSERT INTO policy_versions (tenant, number, label, text, effective_at, \
                 published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                t,
                v.number,
                v.label,
                v.text,
                micros(v.effective_at),
                micros(v.published_at)
            ]),
        ArchiveRow::ApiKey(k) => tx
            .prepare_cached(
                "INSERT INTO api_keys (id, tenant, hash, label, role, purposes, admin, \
                 created_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                k.id,
                t,
                k.hash.as_slice(),
                k.label,
                k.role,
                list,
                k.admin,
                micros(k.created_at),
                k.revoked_at.map(micros)
            ]),
        ArchiveRow::Subject(s) => tx
            .prepare_cached(
                "INSERT INTO subjects (tenant, id, wrapped_dek, kek_version, jurisdiction, state, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                t,
                IdText::new(s.id.0),
                s.wrapped_dek,
                s.kek_version,
                s.jurisdiction,
                s.state.as_str(),
                micros(s.created_at),
                micros(s.updated_at)
            ]),
        ArchiveRow::Record(r) => tx
            .prepare_cached(
                "INSERT INTO records (tenant, id, subject, category, ciphertext, purpose, source, \
                 collected_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                t,
                IdText::new(r.id.0),
                IdText::new(r.subject.0),
                r.category,
                r.ciphertext,
                r.purpose,
                r.source,
                micros(r.collected_at),
                r.expires_at.map(micros)
            ]),
        ArchiveRow::BlindIndex { subject, entry } => tx
            .prepare_cached(
                "INSERT INTO blind_index (tenant, category, hash, subject) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                t,
                entry.category,
                entry.hash.as_slice(),
                IdText::new(subject.0)
            ]),
        ArchiveRow::Consent(e) => consent::insert_in(tx, tenant, e),
        ArchiveRow::Request(r) => tx
            .prepare_cached(&format!(
                "INSERT INTO rights_requests (tenant, {}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                requests::REQUEST_COLUMNS
            ))?
            .execute(params![
                t,
                IdText::new(r.id),
                r.subject.map(|s| IdText::new(s.0)),
                r.right,
                r.state.as_str(),
                r.jurisdiction,
                r.channel,
                micros(r.received_at),
                micros(r.due_at),
                r.extended_until.map(micros),
                r.extension_reason,
                r.closed_at.map(micros),
                r.rejection_reason
            ]),
        ArchiveRow::Outbox(m) => tx
            .prepare_cached(&format!(
                "INSERT INTO outbox (tenant, {}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                requests::OUTBOX_COLUMNS
            ))?
            .execute(params![
                t,
                IdText::new(m.id),
                m.subject.map(|s| IdText::new(s.0)),
                m.kind,
                m.payload,
                micros(m.created_at),
                m.attempts,
                micros(m.next_attempt_at),
                m.delivered_at.map(micros),
                m.last_error
            ]),
        ArchiveRow::Idempotency(r) => tx
            .prepare_cached(
                "INSERT INTO idempotency (tenant, key, request_hash, status, body, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                t,
                r.key,
                r.request_hash.as_slice(),
                r.status,
                r.body,
                micros(r.created_at)
            ]),
        ArchiveRow::Audit(e) => {
            let d = &e.draft;
            tx.prepare_cached(
                "INSERT INTO audit_log (tenant, seq, at, actor, key_id, action, purpose, subject, \
                 categories, outcome, reason, request_id, prev_hash, hash) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?
            .execute(params![
                t,
                int(e.seq),
                micros(d.at),
                d.actor,
                d.key_id,
                d.action,
                d.purpose,
                d.subject.map(|s| IdText::new(s.0)),
                list,
                d.outcome.as_str(),
                d.reason,
                d.request_id,
                e.prev_hash.as_slice(),
                e.hash.as_slice()
            ])
        }
        ArchiveRow::HeldRecord(h) => tx
            .prepare_cached(&format!(
                "INSERT INTO held_records (tenant, {}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                lifecycle::HELD_COLUMNS
            ))?
            .execute(params![
                t,
                IdText::new(h.id.0),
                IdText::new(h.subject.0),
                h.category,
                h.ciphertext,
                h.purpose,
                h.source,
                micros(h.collected_at),
                h.held_for,
                h.reason,
                micros(h.held_at),
                h.until.map(micros)
            ]),
        ArchiveRow::Challenge(c) => tx
            .prepare_cached(&format!(
                "INSERT INTO verification_challenges (tenant, {}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                verification::COLUMNS
            ))?
            .execute(params![
                t,
                IdText::new(c.id),
                IdText::new(c.subject.0),
                c.category,
                c.code_hash.as_slice(),
                micros(c.created_at),
                micros(c.expires_at),
                c.attempts,
                c.consumed_at.map(micros)
            ]),
        ArchiveRow::Incident(i) => tx
            .prepare_cached(
                "INSERT INTO incidents (tenant, id, version, document) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![t, IdText::new(i.id), i.version, i.document]),
        ArchiveRow::Contract(c) => tx
            .prepare_cached(
                "INSERT INTO contracts (tenant, id, subject, kind, status, state, next_due, \
                 version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                t,
                IdText::new(c.id),
                IdText::new(c.subject.0),
                c.kind.as_str(),
                c.status,
                c.state,
                c.next_due.map(micros),
                c.version,
                micros(c.created_at),
                micros(c.updated_at)
            ]),
        ArchiveRow::Aggregate(a) => tx
            .prepare_cached(
                "INSERT INTO aggregates (tenant, purpose, category, bucket, count) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![t, a.purpose, a.category, a.bucket, int(a.count)]),
        ArchiveRow::LegalHold(h) => tx
            .prepare_cached(&format!(
                "INSERT INTO legal_holds (tenant, {}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                HOLD_COLUMNS
            ))?
            .execute(params![
                t,
                IdText::new(h.id),
                IdText::new(h.subject.0),
                h.record.map(|r| IdText::new(r.0)),
                h.reason,
                micros(h.placed_at),
                h.until.map(micros)
            ]),
        // Stored as it is: the tree it commits to is built after the import
        // (`MerkleStore::catch_up_tree`), and `custos audit verify` checks it.
        ArchiveRow::Checkpoint(c) => tx
            .prepare_cached(
                "INSERT INTO audit_checkpoints (tenant, tree_size, root_hash, timestamp, \
                 signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                t,
                int(c.checkpoint.tree_size),
                c.checkpoint.root_hash.as_slice(),
                c.checkpoint.timestamp_micros,
                c.signature.as_slice()
            ]),
    }
}

impl ArchiveStore for SqliteStore {
    fn export_tenant(&self, tenant: &TenantId, sink: &mut dyn ArchiveSink) -> Result<()> {
        self.read(|conn| {
            // One read transaction: every table from the same snapshot.
            let tx = conn.unchecked_transaction().map_err(db)?;
            export_in(&tx, tenant, sink)?;
            tx.finish().map_err(db)
        })
    }

    fn import_rows(&self, tenant: &TenantId, rows: &[ArchiveRow]) -> Result<()> {
        self.write(|tx| {
            for row in rows {
                insert(tx, tenant, row)?;
            }
            Ok(())
        })
    }

    fn archive_counts(&self, tenant: &TenantId) -> Result<ArchiveCounts> {
        self.read(|conn| counts_in(conn, tenant))
    }
}
