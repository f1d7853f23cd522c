//! Leases: a job that any of several `custos serve` instances may run (notice
//! delivery, retention sweeps) is claimed through one row per job, so that two
//! instances never run the same pass at once.
//!
//! A lease has a holder and an expiry. [`LeaseStore::try_claim`] succeeds when
//! the job has no lease yet, when the caller already holds it (a renewal, which
//! pushes the expiry on), or when the lease has expired (the holder stopped or
//! crashed); it is one atomic statement or transaction, so of two instances
//! claiming at once exactly one wins. A holder that finishes early
//! [`release`](LeaseStore::release)s the lease. A separate trait from
//! [`crate::Store`] whose methods default to "not supported".

use std::time::Duration;

use crate::Result;
use crate::types::Timestamp;

/// Job leases. The defaults answer "not supported" so a backend compiles
/// before it implements them.
pub trait LeaseStore: Send + Sync + 'static {
    /// Claims (or renews) the lease on `job` for `holder` until `now + ttl`.
    /// Returns whether `holder` holds the lease afterwards.
    fn try_claim(
        &self,
        _job: &str,
        _holder: &str,
        _now: Timestamp,
        _ttl: Duration,
    ) -> Result<bool> {
        Err(unsupported())
    }

    /// Gives the lease up if `holder` holds it (nothing happens otherwise), so
    /// another instance may claim it at once.
    fn release(&self, _job: &str, _holder: &str) -> Result<()> {
        Err(unsupported())
    }
}

/// `now + ttl` in microseconds since the epoch, saturating.
pub fn lease_expiry(now: Timestamp, ttl: Duration) -> i64 {
    let ttl = i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX);
    crate::micros(now).saturating_add(ttl)
}

fn unsupported() -> crate::StoreError {
    crate::StoreError::Backend("this backend does not implement job leases yet".to_owned())
}

/// Conformance cases for [`LeaseStore`], run by every backend's tests.
#[cfg(feature = "conformance")]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
pub mod conformance {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use super::LeaseStore;
    use crate::Timestamp;
    use crate::Uuid;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_microsecond(1_750_000_000_123_456 + secs * 1_000_000).unwrap()
    }

    /// A job name of its own, so stores shared between tests do not interfere.
    fn job() -> String {
        format!("job-{}", Uuid::new_v4().simple())
    }

    const TTL: Duration = Duration::from_secs(30);

    /// A second holder is refused while the first holds the lease; the holder
    /// renews; after release the other wins.
    pub fn two_holders<S: LeaseStore>(store: S) {
        let job = job();
        assert!(store.try_claim(&job, "a", at(0), TTL).unwrap());
        assert!(!store.try_claim(&job, "b", at(1), TTL).unwrap());
        assert!(store.try_claim(&job, "a", at(2), TTL).unwrap(), "renewal");
        assert!(!store.try_claim(&job, "b", at(3), TTL).unwrap());
        // Releasing someone else's lease does nothing.
        store.release(&job, "b").unwrap();
        assert!(!store.try_claim(&job, "b", at(4), TTL).unwrap());
        store.release(&job, "a").unwrap();
        assert!(store.try_claim(&job, "b", at(5), TTL).unwrap());
        assert!(!store.try_claim(&job, "a", at(6), TTL).unwrap());
        // Another job is independent.
        assert!(
            store
                .try_claim(&format!("{job}-other"), "a", at(6), TTL)
                .unwrap()
        );
    }

    /// An expired lease goes to the next claimant; a renewal pushes the expiry on.
    pub fn expiry_and_renewal<S: LeaseStore>(store: S) {
        let job = job();
        assert!(store.try_claim(&job, "a", at(0), TTL).unwrap());
        // Still held one second before the end, and renewed then.
        assert!(!store.try_claim(&job, "b", at(29), TTL).unwrap());
        assert!(store.try_claim(&job, "a", at(29), TTL).unwrap());
        // The renewal runs until 59: b still loses at 40, wins after 59.
        assert!(!store.try_claim(&job, "b", at(40), TTL).unwrap());
        assert!(store.try_claim(&job, "b", at(60), TTL).unwrap());
        // a, whose lease expired, has lost it.
        assert!(!store.try_claim(&job, "a", at(61), TTL).unwrap());
    }

    /// Many threads claim one fresh job at the same instant: exactly one wins.
    /// Repeated on expired leases too.
    pub fn concurrent_claims_have_one_winner<S: LeaseStore>(store: S) {
        let store = Arc::new(store);
        let job = job();
        for round in 0..5i64 {
            // Each round starts after the previous round's lease expired.
            let now = at(round * 100);
            let threads = 8;
            let barrier = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|i| {
                    let (store, barrier, job) =
                        (Arc::clone(&store), Arc::clone(&barrier), job.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        store
                            .try_claim(&job, &format!("holder-{round}-{i}"), now, TTL)
                            .unwrap()
                    })
                })
                .collect();
            let winners = handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|won| *won)
                .count();
            assert_eq!(winners, 1, "round {round}: exactly one claimant wins");
        }
    }
}

/// Expands to `mod lease_conformance { … }`, one `#[test]` per lease case,
/// each with a fresh store from `$fresh` (see `conformance_tests!`).
#[cfg(feature = "conformance")]
#[macro_export]
macro_rules! lease_conformance_tests {
    ($fresh:expr $(,)?) => {
        mod lease_conformance {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn two_holders() {
                $crate::leases::conformance::two_holders($fresh);
            }
            #[test]
            fn expiry_and_renewal() {
                $crate::leases::conformance::expiry_and_renewal($fresh);
            }
            #[test]
            fn concurrent_claims_have_one_winner() {
                $crate::leases::conformance::concurrent_claims_have_one_winner($fresh);
            }
        }
    };
}
