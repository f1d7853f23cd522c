//! `impl LeaseStore for PostgresStore`: one atomic upsert. Of several
//! instances claiming one job at once, the first insert wins; the others meet
//! the row it wrote (`ON CONFLICT` waits for that insert to commit) and take
//! it over only if it expired or is theirs.

use std::time::Duration;

use custos_store::leases::lease_expiry;
use custos_store::{LeaseStore, Result, Timestamp, micros};

use crate::PostgresStore;
use crate::codec::get;

impl LeaseStore for PostgresStore {
    fn try_claim(&self, job: &str, holder: &str, now: Timestamp, ttl: Duration) -> Result<bool> {
        self.run(|s| {
            let won = s.query_opt(
                "INSERT INTO leases (job, holder, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (job) DO UPDATE SET holder = EXCLUDED.holder, \
                 expires_at = EXCLUDED.expires_at \
                 WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= $4 \
                 RETURNING holder",
                &[&job, &holder, &lease_expiry(now, ttl), &micros(now)],
            )?;
            match won {
                Some(row) => Ok(get::<&str>(&row, 0)? == holder),
                None => Ok(false),
            }
        })
    }

    fn release(&self, job: &str, holder: &str) -> Result<()> {
        self.run(|s| {
            s.execute(
                "DELETE FROM leases WHERE job = $1 AND holder = $2",
                &[&job, &holder],
            )?;
            Ok(())
        })
    }
}
