//! The embedded default [`Store`](custos_store::Store): one SQLite file, bundled
//! SQLite (no system library), in WAL mode.
//!
//! # Connection model
//!
//! * **One writer.** A single read-write connection behind a `Mutex` carries
//!   every write, and every read that appends an audit entry
//!   ([`read_subject`](custos_store::Store::read_subject)), each as one
//!   `BEGIN IMMEDIATE` transaction. SQLite allows one writer at a time anyway;
//!   serialising in-process means writers queue on the mutex instead of
//!   spinning on `SQLITE_BUSY`, and the audit append can read the tenant's last
//!   `(seq, hash)` and write the next entry without any other writer slipping in
//!   between, so each tenant's chain has no gap and no fork.
//! * **A small pool of readers.** Pure reads (lookups, listings, audit export,
//!   counts) run on read-only connections that WAL lets proceed while the
//!   writer commits. Each sees the last committed state when its statement
//!   starts. Idle readers are kept up to [`SqliteOptions::read_connections`];
//!   under more concurrency extra ones are opened and dropped after use.
//!
//! Statements are prepared once per connection (`prepare_cached`). Every
//! statement that touches tenant data is scoped by `tenant = ?` (or by the
//! tenant leading the primary key); the only exception is the lookup of an API
//! key by its public id, which is how a caller's tenant is found.
//!
//! # Durability
//!
//! WAL with `synchronous=NORMAL` (the default) does not sync on every commit: a
//! committed transaction survives a crash of the process, but the last commits
//! before a power loss or an operating-system crash may be lost (the database
//! stays consistent). Set [`SqliteOptions::durable_commits`] for
//! `synchronous=FULL`, which syncs the WAL on every commit so that a commit, and
//! its audit entry, survives power loss too, at the price of one `fsync` per
//! write (see `benches/store.rs`).
//!
//! # Files
//!
//! A database file created by [`SqliteStore::open`] gets mode `0600` on Unix: it
//! holds wrapped data keys and API-key hashes. SQLite gives its `-wal` and
//! `-shm` files the database file's permissions. An existing file's mode is
//! left as the operator set it.
//!
//! # Shredding
//!
//! An erasure, a retention deletion, a purge of held records and a
//! rectification remove personal data or a wrapped data key. SQLite would
//! otherwise keep the old bytes in three places: the free space of pages,
//! free pages, and old frames of the WAL (`-wal`; `-shm` holds only the WAL
//! index, page numbers and checksums). So the writer runs with
//! `secure_delete=ON` (deleted content is overwritten with zeros), and every
//! such write goes through [`SqliteStore::write_shredding`], which truncates the
//! WAL with `wal_checkpoint(TRUNCATE)` both *before* the transaction (so no
//! older frame holding the key or value sits in the WAL next to the removal:
//! a copy of the WAL taken at any moment, rewound to before the removal,
//! yields nothing that the database file alone would not) and *after* it (so
//! the live files hold the removal only). A checkpoint that readers block
//! after the commit is retried after the next write and at the next open.
//! What this cannot reach — copies of the database file, backups, file-system
//! snapshots, blocks the file system itself has released — is in
//! `docs/security.md`.
//!
//! The schema lives in `migrations/` (`V1__initial.sql`, …), embedded in the
//! binary and applied by `open` with refinery; applying is idempotent.
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
mod requests;
mod stats;
mod store;
mod verification;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use custos_store::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};

use crate::codec::db;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// How a [`SqliteStore`] opens its database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// `synchronous=FULL` instead of `NORMAL`: every commit is synced to disk
    /// and survives power loss, not only a process crash. Slower per write.
    pub durable_commits: bool,
    /// How long a statement waits for a lock held by another process before
    /// the call fails with [`StoreError::Unavailable`].
    pub busy_timeout: Duration,
    /// Read-only connections kept open for pure reads (at least one is used).
    pub read_connections: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durable_commits: false,
            busy_timeout: Duration::from_secs(5),
            read_connections: 4,
        }
    }
}

/// A [`Store`](custos_store::Store) in one SQLite database file. Share it with
/// `Arc`; see the crate documentation for the connection model.
pub struct SqliteStore {
    path: PathBuf,
    options: SqliteOptions,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// A shredding write committed but its WAL truncation did not complete
    /// (readers held old frames): retried after every write until it does.
    shred_pending: AtomicBool,
    /// Tests only: skip the truncation after a shredding write, as a crash
    /// between the commit and the checkpoint would.
    skip_final_truncate: AtomicBool,
    // Declared last so that it is dropped after the connections above: the
    // directory of a temporary store is removed once nothing has it open.
    _temp_dir: Option<tempfile::TempDir>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file (mode `0600`) if it does
    /// not exist, and applies any migration not yet applied.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        Self::open_at(path.as_ref().to_path_buf(), options, None)
    }

    /// A store in a new file in a temporary directory that the store owns and
    /// removes when dropped. For tests and benchmarks.
    pub fn open_temporary() -> Result<Self> {
        Self::open_temporary_with(SqliteOptions::default())
    }

    /// [`open_temporary`](Self::open_temporary) with options.
    pub fn open_temporary_with(options: SqliteOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("custos-sqlite-")
            .tempdir()
            .map_err(|e| io_error("cannot create a temporary directory", &e))?;
        let path = dir.path().join("custos.db");
        Self::open_at(path, options, Some(dir))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options the store was opened with.
    pub fn options(&self) -> &SqliteOptions {
        &self.options
    }

    fn open_at(
        path: PathBuf,
        options: SqliteOptions,
        temp_dir: Option<tempfile::TempDir>,
    ) -> Result<Self> {
        create_private_file(&path)?;
        let mut writer = Connection::open(&path).map_err(db)?;
        configure_writer(&writer, &options)?;
        embedded::migrations::runner()
            .run(&mut writer)
            .map_err(|e| StoreError::Backend(format!("applying migrations failed: {e}")))?;
        // Finishes a shredding write whose truncation a crash interrupted: the
        // WAL may still hold the frames of the removal and older ones.
        let pending = !truncate_wal(&writer)?;
        Ok(SqliteStore {
            path,
            options,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            shred_pending: AtomicBool::new(pending),
            skip_final_truncate: AtomicBool::new(false),
            _temp_dir: temp_dir,
        })
    }

    /// Tests only: makes shredding writes skip the WAL truncation after their
    /// commit, to observe the files as a crash right after the commit leaves them.
    #[doc(hidden)]
    pub fn simulate_crash_before_final_truncate(&self, on: bool) {
        self.skip_final_truncate.store(on, Ordering::SeqCst);
    }

    /// [`write`](Self::write) for a transaction that removes personal data or a
    /// wrapped data key: the WAL is truncated before it (refusing with
    /// `Unavailable` if readers keep it from completing, so nothing is removed
    /// while older frames could survive next to the removal) and after it. See
    /// the crate documentation, "Shredding".
    pub(crate) fn write_shredding<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.writer_conn();
        if !truncate_wal(&conn)? {
            return Err(StoreError::Unavailable(
                "readers keep the write-ahead log busy; retry the deletion".to_owned(),
            ));
        }
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        if self.skip_final_truncate.load(Ordering::SeqCst) {
            self.shred_pending.store(true, Ordering::SeqCst);
        } else {
            self.finish_shredding(&conn);
        }
        Ok(out)
    }

    /// Truncates the WAL; on failure the removal stays pending and is retried.
    fn finish_shredding(&self, conn: &Connection) {
        let done = truncate_wal(conn).unwrap_or(false);
        self.shred_pending.store(!done, Ordering::SeqCst);
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction on the writer connection,
    /// committing if it returns `Ok` and rolling back otherwise.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self.writer_conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        // On error the transaction is dropped, which rolls it back.
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        if self.shred_pending.load(Ordering::SeqCst)
            && !self.skip_final_truncate.load(Ordering::SeqCst)
        {
            self.finish_shredding(&conn);
        }
        Ok(out)
    }

    /// Runs a pure read on a pooled read-only connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let out = f(&conn);
        let mut idle = lock(&self.readers);
        if idle.len() < self.options.read_connections.max(1) {
            idle.push(conn);
        }
        out
    }

    fn writer_conn(&self) -> MutexGuard<'_, Connection> {
        lock(&self.writer)
    }

    fn open_reader(&self) -> Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(db)?;
        conn.busy_timeout(self.options.busy_timeout).map_err(db)?;
        tune(&conn)?;
        conn.set_prepared_statement_cache_capacity(32);
        Ok(conn)
    }
}

/// A panic while a connection was locked leaves it usable: its transaction was
/// rolled back when the `Transaction` was dropped during unwinding.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn configure_writer(conn: &Connection, options: &SqliteOptions) -> Result<()> {
    conn.busy_timeout(options.busy_timeout).map_err(db)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(db)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Backend(
            "the database refused journal_mode=WAL".to_owned(),
        ));
    }
    let synchronous = if options.durable_commits {
        "FULL"
    } else {
        "NORMAL"
    };
    conn.pragma_update(None, "synchronous", synchronous)
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    // Deleted content is overwritten with zeros, in pages and free pages.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(db)?;
    // A WAL that was reset shrinks back to this size (bytes), so it does not
    // keep stale frames at its end after a large write.
    conn.pragma_update(None, "journal_size_limit", 4i64 << 20)
        .map_err(db)?;
    tune(conn)?;
    // Checkpoint less often: each checkpoint syncs, and reads commit an audit entry.
    conn.pragma_update(None, "wal_autocheckpoint", 4000)
        .map_err(db)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// `wal_checkpoint(TRUNCATE)`: copies every frame into the database file and
/// truncates the WAL to zero bytes. `false` if readers kept it from completing.
fn truncate_wal(conn: &Connection) -> Result<bool> {
    let busy: i64 = conn
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
        .map_err(db)?;
    Ok(busy == 0)
}

/// Memory-map the file so page reads are memory copies rather than `pread` calls
/// (measured: the read path spent about a tenth of its time in `pread`).
fn tune(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "mmap_size", 1i64 << 30)
        .map_err(db)?;
    conn.pragma_update(None, "temp_store", "MEMORY")
        .map_err(db)?;
    Ok(())
}

/// Creates the database file readable by its owner only, if it does not exist.
fn create_private_file(path: &Path) -> Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    match open.open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io_error("cannot create the database file", &e)),
    }
    // The umask can only have removed bits; set the mode explicitly anyway so
    // the file's mode does not depend on the environment.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io_error("cannot restrict the database file's mode", &e))?;
    }
    Ok(())
}

fn io_error(what: &str, e: &std::io::Error) -> StoreError {
    StoreError::Unavailable(format!("{what}: {}", e.kind()))
}
