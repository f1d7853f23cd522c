//! The retention sweep's throughput (issue 5): expired records swept per second
//! over 1,000,000 expired records on SQLite (`on_expiry = "delete"`, batches of
//! 1,000, one audit entry per batch). The data is built through the store in
//! large transactions (1,000 records per `create_subject`), outside the timing.
//! `CUSTOS_SWEEP_RECORDS` scales it down for a quick run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::disallowed_methods,
    missing_docs
)]

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use custos_core::retention::sweep;
use custos_core::tenant::{ensure_tenant, publish_policy};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{
    AuditDraft, Outcome, Record, RecordId, Store, Subject, SubjectId, SubjectState, SubjectWrite,
    TenantId, Timestamp, Uuid,
};
use custos_store_sqlite::SqliteStore;

const POLICY: &str = r#"
[policy]
id = "bench"
title = "Sweep benchmark"
version = "1"

[controller]
name = "Bench SAS"
address = "1 rue du Test, Paris"
country = "FR"
region = "EEA"

[rights]
deadline = "1mo"
available = ["access", "erasure"]

[category."app.event"]
description = "Event"
retention = "30d"

[purpose.service]
description = "Run the service"
basis = "contract"
categories = ["app.event"]
recipients = ["ops"]

[recipient.ops]
name = "Operations"
kind = "internal"
"#;

const PER_SUBJECT: usize = 1_000;

fn records() -> usize {
    std::env::var("CUSTOS_SWEEP_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn t0() -> Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// A store holding `n` records, all expired by `t0 + 31 days`.
fn build(n: usize, tenant: &TenantId) -> SqliteStore {
    let store = SqliteStore::open_temporary().unwrap();
    ensure_tenant(&store, tenant, "Bench", t0()).unwrap();
    publish_policy(&store, tenant, POLICY, "bench.toml", t0(), t0()).unwrap();
    let expires = t0()
        .checked_add(jiff::SignedDuration::from_hours(30 * 24))
        .unwrap();
    let audit = AuditDraft {
        at: t0(),
        actor: "system".into(),
        key_id: None,
        action: "write".into(),
        purpose: Some("service".into()),
        subject: None,
        categories: vec!["app.event".into()],
        outcome: Outcome::Allow,
        reason: "bench".into(),
        request_id: None,
    };
    let mut left = n;
    while left > 0 {
        let k = left.min(PER_SUBJECT);
        left -= k;
        let subject = Subject {
            id: SubjectId(Uuid::now_v7()),
            wrapped_dek: vec![0; 60],
            kek_version: 1,
            jurisdiction: None,
            state: SubjectState::Active,
            created_at: t0(),
            updated_at: t0(),
        };
        let recs: Vec<Record> = (0..k)
            .map(|_| Record {
                id: RecordId(Uuid::now_v7()),
                subject: subject.id,
                category: "app.event".into(),
                ciphertext: vec![7; 48],
                purpose: "service".into(),
                source: "device".into(),
                collected_at: t0(),
                expires_at: Some(expires),
            })
            .collect();
        store
            .create_subject(&SubjectWrite {
                tenant,
                subject: &subject,
                records: &recs,
                index: &[],
                consents: &[],
                audit: &audit,
                idempotency: None,
            })
            .unwrap();
    }
    store
}

fn bench(c: &mut Criterion) {
    let n = records();
    let tenant = TenantId::new("bench").unwrap();
    let keys = KeyRing::from_keyfile(&KeyFile::generate("2026-01-01").unwrap());
    let now = t0()
        .checked_add(jiff::SignedDuration::from_hours(31 * 24))
        .unwrap();
    let mut group = c.benchmark_group("sweep");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(1));
    group.measurement_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(u64::try_from(n).unwrap()));
    group.bench_function(format!("delete_{n}_expired"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let store = build(n, &tenant);
                let start = Instant::now();
                let report = sweep(&store, &keys, &tenant, now, 1_000, false).unwrap();
                total += start.elapsed();
                assert_eq!(report.deleted, u64::try_from(n).unwrap());
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
