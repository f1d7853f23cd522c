//! Rights requests and the outbox are not stored in PostgreSQL yet: the trait's
//! defaults answer "not supported", so `custos serve` on PostgreSQL refuses those
//! endpoints with an error instead of pretending. (SQLite implements them.)

use custos_store::RequestStore;

use crate::PostgresStore;

impl RequestStore for PostgresStore {}
