//! Job leases (`LeaseStore`) on PostgreSQL: the conformance cases, and two
//! stores (two instances) on one database racing for one job.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use custos_store::{LeaseStore, Timestamp};
use custos_store_postgres::{PostgresOptions, PostgresStore, TempDatabase};

use super::{admin_url, fresh};

custos_store::lease_conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});

/// Two instances (two stores, two pools) on one database: of their claims at
/// the same instant exactly one wins, round after round.
#[test]
fn two_instances_claim_one_job_once() {
    let Some(admin) = admin_url() else { return };
    let db = TempDatabase::create(&admin).unwrap();
    let stores: Vec<Arc<PostgresStore>> = (0..2)
        .map(|_| Arc::new(PostgresStore::connect(db.url(), PostgresOptions::default()).unwrap()))
        .collect();
    for round in 0..10i64 {
        let now = Timestamp::from_second(1_750_000_000 + round * 100).unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let store = Arc::clone(&stores[i % 2]);
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    store
                        .try_claim(
                            "outbox",
                            &format!("instance-{i}"),
                            now,
                            Duration::from_secs(30),
                        )
                        .unwrap()
                })
            })
            .collect();
        let winners = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|w| *w)
            .count();
        assert_eq!(winners, 1, "round {round}");
    }
}
