//! `impl LeaseStore for SqliteStore`: one upsert in one write transaction.
//! (Instances sharing a SQLite file are processes on one machine; the file's
//! write lock serialises their claims.)

use std::time::Duration;

use custos_store::leases::lease_expiry;
use custos_store::{LeaseStore, Result, Timestamp, micros};
use rusqlite::{OptionalExtension, params};

use crate::SqliteStore;
use crate::codec::db;

impl LeaseStore for SqliteStore {
    fn try_claim(&self, job: &str, holder: &str, now: Timestamp, ttl: Duration) -> Result<bool> {
        self.write(|tx| {
            // Inserted if absent; taken over if expired; renewed if ours. Otherwise
            // the WHERE leaves the row alone and nothing is returned.
            let won: Option<String> = tx
                .prepare_cached(
                    "INSERT INTO leases (job, holder, expires_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (job) DO UPDATE SET holder = excluded.holder, \
                     expires_at = excluded.expires_at \
                     WHERE leases.holder = excluded.holder OR leases.expires_at <= ?4 \
                     RETURNING holder",
                )
                .and_then(|mut st| {
                    st.query_row(
                        params![job, holder, lease_expiry(now, ttl), micros(now)],
                        |row| row.get(0),
                    )
                    .optional()
                })
                .map_err(db)?;
            Ok(won.as_deref() == Some(holder))
        })
    }

    fn release(&self, job: &str, holder: &str) -> Result<()> {
        self.write(|tx| {
            tx.prepare_cached("DELETE FROM leases WHERE job = ?1 AND holder = ?2")
                .and_then(|mut st| st.execute(params![job, holder]))
                .map_err(db)?;
            Ok(())
        })
    }
}
