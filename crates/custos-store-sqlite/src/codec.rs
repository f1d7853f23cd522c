//! Between rows and types: error mapping, id encoding and row decoders.
//!
//! Error messages name columns, tables and SQLite result codes, never a stored
//! or bound value.

use std::fmt;

use custos_store::{
    ApiKey, AuditDraft, AuditEntry, IdempotentResponse, Outcome, PolicyVersion, Record, RecordId,
    StoreError, Subject, SubjectId, SubjectState, Tenant, TenantId, Timestamp, Uuid, WrappedKey,
    from_micros,
};
use rusqlite::types::{ToSqlOutput, Type, ValueRef};
use rusqlite::{ErrorCode, Row, ToSql, ffi};

/// Maps a SQLite error to a [`StoreError`] without copying any value into it.
pub(crate) fn db(e: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match e {
        E::SqliteFailure(f, message) => match f.code {
            ErrorCode::ConstraintViolation => {
                // SQLite's constraint messages name the table and columns
                // ("UNIQUE constraint failed: api_keys.id"), not the values.
                let detail = message.unwrap_or_else(|| "constraint failed".to_owned());
                match f.extended_code {
                    ffi::SQLITE_CONSTRAINT_PRIMARYKEY | ffi::SQLITE_CONSTRAINT_UNIQUE => {
                        StoreError::Conflict(detail)
                    }
                    ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
                        StoreError::NotFound("the tenant or subject this row refers to".to_owned())
                    }
                    _ => StoreError::Backend(detail),
                }
            }
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                StoreError::Unavailable("the database is busy".to_owned())
            }
            ErrorCode::CannotOpen
            | ErrorCode::SystemIoFailure
            | ErrorCode::DiskFull
            | ErrorCode::PermissionDenied
            | ErrorCode::ReadOnly => {
                StoreError::Unavailable(format!("sqlite cannot write or read: {:?}", f.code))
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                StoreError::Corrupt(format!("sqlite reports {:?}", f.code))
            }
            code => StoreError::Backend(format!("sqlite error {code:?} ({})", f.extended_code)),
        },
        E::FromSqlConversionFailure(idx, _, err) => {
            // Only our own decoding errors are known to carry no value.
            let what = err
                .downcast_ref::<Undecodable>()
                .map_or("unexpected value", |u| u.0);
            StoreError::Corrupt(format!("column {idx}: {what}"))
        }
        E::IntegralValueOutOfRange(idx, _) => {
            StoreError::Corrupt(format!("column {idx}: integer out of range"))
        }
        E::InvalidColumnType(idx, name, ty) => {
            StoreError::Corrupt(format!("column {idx} ({name}): unexpected type {ty}"))
        }
        E::Utf8Error(idx, _) => StoreError::Corrupt(format!("column {idx}: invalid UTF-8")),
        E::QueryReturnedNoRows => StoreError::Backend("query returned no rows".to_owned()),
        _ => StoreError::Backend("sqlite client error".to_owned()),
    }
}

/// Why a column could not be decoded; a fixed text, never the value.
#[derive(Debug)]
struct Undecodable(&'static str);

impl fmt::Display for Undecodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Undecodable {}

fn bad(idx: usize, ty: Type, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, ty, Box::new(Undecodable(what)))
}

/// A UUID bound as hyphenated lower-case text without allocating.
pub(crate) struct IdText([u8; 36]);

impl IdText {
    pub(crate) fn new(id: Uuid) -> Self {
        let mut buf = [0u8; 36];
        id.hyphenated().encode_lower(&mut buf);
        IdText(buf)
    }
}

impl ToSql for IdText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(&self.0)))
    }
}

pub(crate) fn subject_id(id: SubjectId) -> IdText {
    IdText::new(id.0)
}

/// A list of strings as a JSON array (purposes, audit categories).
pub(crate) fn json_list(items: &[String]) -> custos_store::Result<String> {
    serde_json::to_string(items)
        .map_err(|_| StoreError::Backend("cannot encode a list of names".to_owned()))
}

/// Converts a count or limit to SQLite's integer, saturating.
pub(crate) fn int(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

// --- column decoders --------------------------------------------------------------

fn text<'r>(row: &'r Row<'_>, idx: usize) -> rusqlite::Result<&'r str> {
    row.get_ref(idx)?
        .as_str()
        .map_err(|_| bad(idx, Type::Text, "expected text"))
}

fn uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    Uuid::try_parse(text(row, idx)?).map_err(|_| bad(idx, Type::Text, "not a UUID"))
}

fn ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Timestamp> {
    from_micros(row.get(idx)?).ok_or_else(|| bad(idx, Type::Integer, "timestamp out of range"))
}

fn opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Timestamp>> {
    match row.get::<_, Option<i64>>(idx)? {
        None => Ok(None),
        Some(us) => from_micros(us)
            .map(Some)
            .ok_or_else(|| bad(idx, Type::Integer, "timestamp out of range")),
    }
}

pub(crate) fn hash32(row: &Row<'_>, idx: usize) -> rusqlite::Result<[u8; 32]> {
    let bytes = row
        .get_ref(idx)?
        .as_blob()
        .map_err(|_| bad(idx, Type::Blob, "expected a blob"))?;
    <[u8; 32]>::try_from(bytes).map_err(|_| bad(idx, Type::Blob, "expected 32 bytes"))
}

fn u32_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<u32> {
    u32::try_from(row.get::<_, i64>(idx)?)
        .map_err(|_| bad(idx, Type::Integer, "out of range for u32"))
}

pub(crate) fn u64_col(row: &Row<'_>, idx: usize) -> rusqlite::Result<u64> {
    u64::try_from(row.get::<_, i64>(idx)?)
        .map_err(|_| bad(idx, Type::Integer, "negative where a count was expected"))
}

fn tenant_id(row: &Row<'_>, idx: usize) -> rusqlite::Result<TenantId> {
    TenantId::new(text(row, idx)?).ok_or_else(|| bad(idx, Type::Text, "not a tenant id"))
}

fn strings(row: &Row<'_>, idx: usize) -> rusqlite::Result<Vec<String>> {
    serde_json::from_str(text(row, idx)?)
        .map_err(|_| bad(idx, Type::Text, "not a JSON list of strings"))
}

// --- rows ---------------------------------------------------------------------------
// Each decoder documents the column order its SELECTs must use.

/// `id, name, created_at`
pub(crate) fn tenant(row: &Row<'_>) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: tenant_id(row, 0)?,
        name: row.get(1)?,
        created_at: ts(row, 2)?,
    })
}

/// `number, label, text, effective_at, published_at`
pub(crate) fn policy_version(row: &Row<'_>) -> rusqlite::Result<PolicyVersion> {
    Ok(PolicyVersion {
        number: u32_col(row, 0)?,
        label: row.get(1)?,
        text: row.get(2)?,
        effective_at: ts(row, 3)?,
        published_at: ts(row, 4)?,
    })
}

/// `id, tenant, hash, label, role, purposes, admin, created_at, revoked_at`
pub(crate) fn api_key(row: &Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: row.get(0)?,
        tenant: tenant_id(row, 1)?,
        hash: hash32(row, 2)?,
        label: row.get(3)?,
        role: row.get(4)?,
        purposes: strings(row, 5)?,
        admin: row.get(6)?,
        created_at: ts(row, 7)?,
        revoked_at: opt_ts(row, 8)?,
    })
}

/// `id, wrapped_dek, kek_version, jurisdiction, state, created_at, updated_at`
pub(crate) fn subject(row: &Row<'_>) -> rusqlite::Result<Subject> {
    Ok(Subject {
        id: SubjectId(uuid(row, 0)?),
        wrapped_dek: row.get(1)?,
        kek_version: u32_col(row, 2)?,
        jurisdiction: row.get(3)?,
        state: SubjectState::parse(text(row, 4)?)
            .ok_or_else(|| bad(4, Type::Text, "unknown subject state"))?,
        created_at: ts(row, 5)?,
        updated_at: ts(row, 6)?,
    })
}

/// `id, subject, category, ciphertext, purpose, source, collected_at, expires_at`
pub(crate) fn record(row: &Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        id: RecordId(uuid(row, 0)?),
        subject: SubjectId(uuid(row, 1)?),
        category: row.get(2)?,
        ciphertext: row.get(3)?,
        purpose: row.get(4)?,
        source: row.get(5)?,
        collected_at: ts(row, 6)?,
        expires_at: opt_ts(row, 7)?,
    })
}

/// `id, wrapped_dek, kek_version`
pub(crate) fn wrapped_key(row: &Row<'_>) -> rusqlite::Result<WrappedKey> {
    Ok(WrappedKey {
        subject: SubjectId(uuid(row, 0)?),
        wrapped_dek: row.get(1)?,
        kek_version: u32_col(row, 2)?,
    })
}

/// `seq, at, actor, key_id, action, purpose, subject, categories, outcome,
/// reason, request_id, prev_hash, hash`
pub(crate) fn audit_entry(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    let subject = match row.get_ref(6)? {
        ValueRef::Null => None,
        _ => Some(SubjectId(uuid(row, 6)?)),
    };
    Ok(AuditEntry {
        seq: u64_col(row, 0)?,
        draft: AuditDraft {
            at: ts(row, 1)?,
            actor: row.get(2)?,
            key_id: row.get(3)?,
            action: row.get(4)?,
            purpose: row.get(5)?,
            subject,
            categories: strings(row, 7)?,
            outcome: Outcome::parse(text(row, 8)?)
                .ok_or_else(|| bad(8, Type::Text, "unknown outcome"))?,
            reason: row.get(9)?,
            request_id: row.get(10)?,
        },
        prev_hash: hash32(row, 11)?,
        hash: hash32(row, 12)?,
    })
}

/// `key, request_hash, status, body, created_at`
pub(crate) fn idempotent_response(row: &Row<'_>) -> rusqlite::Result<IdempotentResponse> {
    Ok(IdempotentResponse {
        key: row.get(0)?,
        request_hash: hash32(row, 1)?,
        status: u16::try_from(row.get::<_, i64>(2)?)
            .map_err(|_| bad(2, Type::Integer, "not an HTTP status"))?,
        body: row.get(3)?,
        created_at: ts(row, 4)?,
    })
}
