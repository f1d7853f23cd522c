//! Between rows and types: error mapping, statement helpers and row decoders.
//!
//! Error messages name SQLSTATE codes, constraints and column positions, never
//! the server's message text (which can quote a value) nor a bound value.

use std::collections::HashMap;

use custos_store::{
    ApiKey, AuditDraft, AuditEntry, IdempotentResponse, Outcome, PolicyVersion, Record, RecordId,
    Result, StoreError, Subject, SubjectId, SubjectState, Tenant, TenantId, Timestamp, Uuid,
    WrappedKey, from_micros,
};
use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql};
use postgres::{GenericClient, Row, Statement};

/// Maps a client error to a [`StoreError`] without copying any value into it.
pub(crate) fn db(e: postgres::Error) -> StoreError {
    if e.is_closed() {
        return StoreError::Unavailable("the database connection is closed".to_owned());
    }
    if let Some(err) = e.as_db_error() {
        let code = err.code();
        let constraint = err.constraint().unwrap_or("unnamed");
        return if *code == SqlState::UNIQUE_VIOLATION {
            StoreError::Conflict(format!("unique constraint {constraint} failed"))
        } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
            StoreError::NotFound("the tenant or subject this row refers to".to_owned())
        } else if *code == SqlState::CHECK_VIOLATION || *code == SqlState::NOT_NULL_VIOLATION {
            StoreError::Backend(format!("constraint {constraint} failed ({})", code.code()))
        } else if unavailable(code) {
            StoreError::Unavailable(format!("postgres reports {}", code.code()))
        } else if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED {
            StoreError::Corrupt(format!("postgres reports {}", code.code()))
        } else {
            StoreError::Backend(format!("postgres error {}", code.code()))
        };
    }
    // The client's own errors: its Display is a fixed phrase, then ": " and the
    // cause. Keep the phrase only.
    let text = e.to_string();
    let phrase = text.split(": ").next().unwrap_or("postgres client error");
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if io
        || phrase.starts_with("error connecting")
        || phrase.starts_with("error communicating")
        || phrase.starts_with("timeout")
        || phrase.starts_with("connection closed")
    {
        StoreError::Unavailable(format!("cannot reach the database: {phrase}"))
    } else {
        StoreError::Backend(format!("postgres client error: {phrase}"))
    }
}

/// Errors after which the same call may succeed: the server is going away, out
/// of connections or resources, or chose this transaction as a deadlock victim.
fn unavailable(code: &SqlState) -> bool {
    let class = code.code().get(..2).unwrap_or("");
    matches!(class, "08" | "53" | "57")
        || *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
        || *code == SqlState::LOCK_NOT_AVAILABLE
}

// --- statements -------------------------------------------------------------------

pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A client (a connection, or a transaction on it) with the connection's cache
/// of prepared statements: each SQL text is prepared once per connection.
pub(crate) struct Session<'a, C: GenericClient> {
    pub(crate) client: &'a mut C,
    pub(crate) statements: &'a mut HashMap<&'static str, Statement>,
}

impl<C: GenericClient> Session<'_, C> {
    fn statement(&mut self, sql: &'static str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(db)?;
        self.statements.insert(sql, st.clone());
        Ok(st)
    }

    pub(crate) fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let st = self.statement(sql)?;
        self.client.query(&st, params).map_err(db)
    }

    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>> {
        let st = self.statement(sql)?;
        self.client.query_opt(&st, params).map_err(db)
    }

    pub(crate) fn query_one(&mut self, sql: &'static str, params: Params<'_>) -> Result<Row> {
        let st = self.statement(sql)?;
        self.client.query_one(&st, params).map_err(db)
    }

    pub(crate) fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let st = self.statement(sql)?;
        self.client.execute(&st, params).map_err(db)
    }
}

// --- values -----------------------------------------------------------------------

/// A UUID as the hyphenated lower-case text the schema stores.
pub(crate) fn id_text(id: Uuid) -> String {
    id.hyphenated().to_string()
}

/// Converts a count or limit to PostgreSQL's BIGINT, saturating.
pub(crate) fn int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

// --- column decoders --------------------------------------------------------------

fn corrupt(idx: usize, what: &str) -> StoreError {
    StoreError::Corrupt(format!("column {idx}: {what}"))
}

pub(crate) fn get<'r, T: FromSql<'r>>(row: &'r Row, idx: usize) -> Result<T> {
    row.try_get(idx)
        .map_err(|_| corrupt(idx, "unexpected type or NULL"))
}

pub(crate) fn uuid(row: &Row, idx: usize) -> Result<Uuid> {
    Uuid::try_parse(get::<&str>(row, idx)?).map_err(|_| corrupt(idx, "not a UUID"))
}

pub(crate) fn ts(row: &Row, idx: usize) -> Result<Timestamp> {
    from_micros(get(row, idx)?).ok_or_else(|| corrupt(idx, "timestamp out of range"))
}

pub(crate) fn opt_ts(row: &Row, idx: usize) -> Result<Option<Timestamp>> {
    match get::<Option<i64>>(row, idx)? {
        None => Ok(None),
        Some(us) => from_micros(us)
            .map(Some)
            .ok_or_else(|| corrupt(idx, "timestamp out of range")),
    }
}

pub(crate) fn hash32(row: &Row, idx: usize) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(get::<&[u8]>(row, idx)?).map_err(|_| corrupt(idx, "expected 32 bytes"))
}

pub(crate) fn u32_col(row: &Row, idx: usize) -> Result<u32> {
    u32::try_from(get::<i64>(row, idx)?).map_err(|_| corrupt(idx, "out of range for u32"))
}

pub(crate) fn u64_col(row: &Row, idx: usize) -> Result<u64> {
    u64::try_from(get::<i64>(row, idx)?)
        .map_err(|_| corrupt(idx, "negative where a count was expected"))
}

fn tenant_id(row: &Row, idx: usize) -> Result<TenantId> {
    TenantId::new(get(row, idx)?).ok_or_else(|| corrupt(idx, "not a tenant id"))
}

pub(crate) fn subject_id(row: &Row, idx: usize) -> Result<SubjectId> {
    uuid(row, idx).map(SubjectId)
}

// --- rows ---------------------------------------------------------------------------
// Each decoder documents the column order its SELECTs must use.

/// `id, name, created_at`
pub(crate) fn tenant(row: &Row) -> Result<Tenant> {
    Ok(Tenant {
        id: tenant_id(row, 0)?,
        name: get(row, 1)?,
        created_at: ts(row, 2)?,
    })
}

/// `number, label, text, effective_at, published_at`
pub(crate) fn policy_version(row: &Row) -> Result<PolicyVersion> {
    Ok(PolicyVersion {
        number: u32_col(row, 0)?,
        label: get(row, 1)?,
        text: get(row, 2)?,
        effective_at: ts(row, 3)?,
        published_at: ts(row, 4)?,
    })
}

/// `id, tenant, hash, label, role, purposes, admin, created_at, revoked_at`
pub(crate) fn api_key(row: &Row) -> Result<ApiKey> {
    Ok(ApiKey {
        id: get(row, 0)?,
        tenant: tenant_id(row, 1)?,
        hash: hash32(row, 2)?,
        label: get(row, 3)?,
        role: get(row, 4)?,
        purposes: get(row, 5)?,
        admin: get(row, 6)?,
        created_at: ts(row, 7)?,
        revoked_at: opt_ts(row, 8)?,
    })
}

/// `id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at`
pub(crate) fn subject(row: &Row) -> Result<Subject> {
    Ok(Subject {
        id: subject_id(row, 0)?,
        wrapped_dek: get(row, 1)?,
        kek_version: u32_col(row, 2)?,
        jurisdiction: get(row, 3)?,
        state: SubjectState::parse(get(row, 4)?)
            .ok_or_else(|| corrupt(4, "unknown subject state"))?,
        created_at: ts(row, 5)?,
        updated_at: ts(row, 6)?,
    })
}

/// `id, subject, category, ciphertext, purpose, source, collected_at, expires_at`
pub(crate) fn record(row: &Row) -> Result<Record> {
    Ok(Record {
        id: RecordId(uuid(row, 0)?),
        subject: subject_id(row, 1)?,
        category: get(row, 2)?,
        ciphertext: get(row, 3)?,
        purpose: get(row, 4)?,
        source: get(row, 5)?,
        collected_at: ts(row, 6)?,
        expires_at: opt_ts(row, 7)?,
    })
}

/// `id, wrapped_dek, kek_version`
pub(crate) fn wrapped_key(row: &Row) -> Result<WrappedKey> {
    Ok(WrappedKey {
        subject: subject_id(row, 0)?,
        wrapped_dek: get(row, 1)?,
        kek_version: u32_col(row, 2)?,
    })
}

/// `seq, at, actor, key_id, action, purpose, subject, categories, outcome,
/// reason, request_id, prev_hash, hash`
pub(crate) fn audit_entry(row: &Row) -> Result<AuditEntry> {
    let subject = match get::<Option<&str>>(row, 6)? {
        None => None,
        Some(_) => Some(subject_id(row, 6)?),
    };
    Ok(AuditEntry {
        seq: u64_col(row, 0)?,
        draft: AuditDraft {
            at: ts(row, 1)?,
            actor: get(row, 2)?,
            key_id: get(row, 3)?,
            action: get(row, 4)?,
            purpose: get(row, 5)?,
            subject,
            categories: get(row, 7)?,
            outcome: Outcome::parse(get(row, 8)?).ok_or_else(|| corrupt(8, "unknown outcome"))?,
            reason: get(row, 9)?,
            request_id: get(row, 10)?,
        },
        prev_hash: hash32(row, 11)?,
        hash: hash32(row, 12)?,
    })
}

/// `key, request_hash, status, body, created_at`
pub(crate) fn idempotent_response(row: &Row) -> Result<IdempotentResponse> {
    Ok(IdempotentResponse {
        key: get(row, 0)?,
        request_hash: hash32(row, 1)?,
        status: u16::try_from(get::<i32>(row, 2)?).map_err(|_| corrupt(2, "not an HTTP status"))?,
        body: get(row, 3)?,
        created_at: ts(row, 4)?,
    })
}
