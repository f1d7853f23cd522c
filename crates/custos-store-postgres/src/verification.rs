//! Identity-verification challenges are not stored in PostgreSQL yet: the trait's
//! defaults answer "not supported" (SQLite implements them).

use custos_store::VerificationStore;

use crate::PostgresStore;

impl VerificationStore for PostgresStore {}
