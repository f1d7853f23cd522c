//! The PostgreSQL [`Store`](custos_store::Store): how custos grows past one
//! machine — several stateless `custos serve` instances on one database.
//!
//! # Connection model
//!
//! The [`Store`](custos_store::Store) trait is synchronous (ARCHITECTURE.md:
//! handlers call it on tokio's blocking pool), so this backend uses the
//! synchronous `postgres` client (a thin blocking wrapper over
//! `tokio-postgres`) and a small pool written here: a `Mutex<Vec<_>>` of idle
//! connections, at most [`PostgresOptions::max_connections`] open, a caller
//! waiting at most [`PostgresOptions::acquire_timeout`] for one to be free.
//! DESIGN.md named tokio-postgres with deadpool; with a synchronous trait an
//! async pool would only add a runtime hop per call, and the pool needed here
//! is a few dozen lines. A connection that the server closed is dropped rather
//! than returned to the pool. Each connection prepares a statement once and
//! keeps it (a per-connection cache keyed by the SQL text).
//!
//! # Transactions and the audit chain
//!
//! Each trait method is one transaction (or one statement, where a single
//! statement is the whole unit of work). Every method that touches personal
//! data appends its audit entry in the same transaction. The head of each
//! tenant's chain (`audit_heads`: last seq and hash) is one row, locked with
//! `SELECT … FOR UPDATE` by the append: two writers — threads of one process
//! or different `custos serve` instances — take turns per tenant, so a seq is
//! never taken twice and the chain never forks, while writers of different
//! tenants do not wait for one another. The lock is taken last in each
//! transaction, so it is held only for the append and the commit.
//!
//! Every statement that touches tenant data is scoped by `tenant = $1`; the only
//! exception is the lookup of an API key by its public id.
//!
//! # Errors
//!
//! Unique violations are [`StoreError::Conflict`], foreign-key violations
//! [`StoreError::NotFound`] (the tenant or subject referred to is missing), a
//! lost or refused connection, a busy pool, a deadlock or a serialisation
//! failure [`StoreError::Unavailable`]. Messages carry SQLSTATE codes and
//! constraint names, never the server's message text, which can quote values.
//!
//! # Migrations
//!
//! The schema lives in `migrations/` (PostgreSQL dialect), embedded and applied
//! with refinery by [`PostgresStore::connect`] under an advisory lock, so
//! instances starting together do not race; applying is idempotent.
//! [`PostgresStore::migrate`] applies them explicitly and says which it applied.
//!
//! Connections are made without TLS: run the database on the same host or a
//! trusted network (or a TLS-terminating proxy) until TLS support is added.
#![forbid(unsafe_code)]

mod archive;
mod codec;
mod consent;
mod contracts;
mod incidents;
mod key_check;
mod leases;
mod lifecycle;
mod merkle;
mod policy_notices;
mod pool;
mod requests;
mod stats;
mod store;
mod temp;
mod tls;
mod verification;

use std::fmt;
use std::time::Duration;

use custos_store::{Result, StoreError};
use postgres::Client;

use crate::codec::db;
pub use crate::temp::TempDatabase;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// An arbitrary, fixed key for `pg_advisory_lock` around migrations
/// ("custos" in ASCII).
const MIGRATION_LOCK: i64 = 0x0000_6375_7374_6f73;

/// How a [`PostgresStore`] connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Connections kept open at most; callers beyond wait for a free one.
    pub max_connections: usize,
    /// How long a call waits for a free connection before it fails with
    /// [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// How long opening a connection may take.
    pub connect_timeout: Duration,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// A [`Store`](custos_store::Store) in a PostgreSQL database. Share it with
/// `Arc`; see the crate documentation for the connection model.
pub struct PostgresStore {
    pool: pool::Pool,
    /// Shredding: a removal committed and its tables await a VACUUM.
    vacuum_pending: std::sync::atomic::AtomicBool,
    /// Held by the one caller running the VACUUM; others leave it their removals.
    vacuuming: std::sync::Mutex<()>,
    // Declared last so that it is dropped after the pool: a temporary database
    // is dropped once no connection of this store is open on it.
    _temp: Option<TempDatabase>,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The configuration may hold a password: show where, not how.
        f.debug_struct("PostgresStore")
            .field("database", &self.pool.describe())
            .finish_non_exhaustive()
    }
}

/// One migration applied by [`PostgresStore::migrate`], as `V1__initial`.
pub type AppliedMigration = String;

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user@host:port/db`, or
    /// libpq's `key=value` form) and applies any migration not yet applied.
    pub fn connect(url: &str, options: PostgresOptions) -> Result<Self> {
        Self::connect_inner(url, options, None).map(|(store, _)| store)
    }

    /// Connects, applies the migrations not yet applied and returns which.
    pub fn migrate(url: &str, options: PostgresOptions) -> Result<Vec<AppliedMigration>> {
        Self::connect_inner(url, options, None).map(|(_, applied)| applied)
    }

    /// A store in a new database `custos_test_<random>` made through
    /// `admin_url` (a user allowed to create databases), dropped with the
    /// store. For tests and benchmarks.
    pub fn connect_temporary(admin_url: &str, options: PostgresOptions) -> Result<Self> {
        let temp = TempDatabase::create(admin_url)?;
        let url = temp.url().to_owned();
        Self::connect_inner(&url, options, Some(temp)).map(|(store, _)| store)
    }

    fn connect_inner(
        url: &str,
        options: PostgresOptions,
        temp: Option<TempDatabase>,
    ) -> Result<(Self, Vec<AppliedMigration>)> {
        let target = parse_url(url)?;
        let pool = pool::Pool::new(target, &options);
        let applied = {
            let mut conn = pool.get()?;
            run_migrations(&mut conn.client)?
        };
        Ok((
            PostgresStore {
                pool,
                vacuum_pending: std::sync::atomic::AtomicBool::new(false),
                vacuuming: std::sync::Mutex::new(()),
                _temp: temp,
            },
            applied,
        ))
    }
}

/// The driver's configuration and the TLS mode of `url` (tls.rs).
pub(crate) fn parse_url(url: &str) -> Result<tls::Target> {
    tls::Target::parse(url)
}

fn run_migrations(client: &mut Client) -> Result<Vec<AppliedMigration>> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .map_err(db)?;
    let report = embedded::migrations::runner().run(client);
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    let report =
        report.map_err(|e| StoreError::Backend(format!("applying migrations failed: {e}")))?;
    unlocked.map_err(db)?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| format!("V{}__{}", m.version(), m.name()))
        .collect())
}
