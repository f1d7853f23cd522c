//! Incidents are not stored in PostgreSQL yet: the trait's defaults answer "not
//! supported" (SQLite implements them).

use custos_store::IncidentStore;

use crate::PostgresStore;

impl IncidentStore for PostgresStore {}
