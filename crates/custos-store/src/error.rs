//! Store errors. Messages name ids and tables, never personal data.

/// What went wrong in a backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist (in this tenant).
    #[error("not found: {0}")]
    NotFound(String),
    /// A unique id, a version number or an idempotency key is already taken.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Stored data that cannot be decoded (a corrupt row, an unknown enum value).
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// The database is busy or unreachable; the operation may be retried.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other backend failure.
    #[error("database error: {0}")]
    Backend(String),
}
