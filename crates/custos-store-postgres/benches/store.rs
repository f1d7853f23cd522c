//! Write and read of one subject, each with its audit entry, on a database
//! already holding 10,000 subjects of 10 records each: PostgreSQL's default
//! `synchronous_commit=on` (every commit flushed to disk before it returns)
//! against `off` (commits survive a server crash only up to the last WAL
//! flush, a fraction of a second — like SQLite's `synchronous=NORMAL`).
//! Mirrors `custos-store-sqlite/benches/store.rs`.
//!
//! Needs a server: `CUSTOS_TEST_DATABASE_URL` (a user that may create
//! databases); the bench makes and drops a database of its own.
//!
//! `CUSTOS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p custos-store-postgres -- --warm-up-time 1 --measurement-time 3`
// Benchmark code: a failure should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use custos_store::{
    AuditDraft, BlindIndexEntry, Outcome, Record, RecordId, Store, Subject, SubjectId,
    SubjectState, SubjectWrite, Tenant, TenantId, Timestamp, Uuid,
};
use custos_store_postgres::{PostgresOptions, PostgresStore, TempDatabase};

const SUBJECTS: usize = 10_000;
const RECORDS: usize = 10;
const CATEGORIES: [&str; RECORDS] = [
    "user.name",
    "user.contact.email",
    "user.contact.phone",
    "user.contact.address",
    "user.birth_date",
    "user.account.id",
    "user.payment.iban",
    "user.device.id",
    "user.location.city",
    "user.preferences",
];

fn at() -> Timestamp {
    Timestamp::from_second(1_750_000_000).unwrap()
}

struct Input {
    subject: Subject,
    records: Vec<Record>,
    index: Vec<BlindIndexEntry>,
    audit: AuditDraft,
}

/// Ids are UUID v7, as the engine makes them.
fn input(n: u64) -> Input {
    let id = SubjectId(Uuid::now_v7());
    let records = CATEGORIES
        .iter()
        .map(|category| Record {
            id: RecordId(Uuid::now_v7()),
            subject: id,
            category: (*category).to_owned(),
            // About what AES-256-GCM makes of a short value: nonce + value + tag.
            ciphertext: vec![0xa5; 12 + 40 + 16],
            purpose: "support".to_owned(),
            source: "data_subject".to_owned(),
            collected_at: at(),
            expires_at: Some(at()),
        })
        .collect();
    let mut hash = [0u8; 32];
    hash[..8].copy_from_slice(&n.to_be_bytes());
    Input {
        subject: Subject {
            id,
            wrapped_dek: vec![0x5a; 60],
            kek_version: 1,
            jurisdiction: Some("BE".to_owned()),
            state: SubjectState::Active,
            created_at: at(),
            updated_at: at(),
        },
        records,
        index: vec![BlindIndexEntry {
            category: "user.contact.email".to_owned(),
            hash,
        }],
        audit: audit("write", Some(id)),
    }
}

fn audit(action: &str, subject: Option<SubjectId>) -> AuditDraft {
    AuditDraft {
        at: at(),
        actor: "key:ck_bench".to_owned(),
        key_id: Some("ck_bench".to_owned()),
        action: action.to_owned(),
        purpose: Some("support".to_owned()),
        subject,
        categories: CATEGORIES.iter().map(|c| (*c).to_owned()).collect(),
        outcome: Outcome::Allow,
        reason: "policy allows".to_owned(),
        request_id: None,
    }
}

fn write(store: &PostgresStore, tenant: &TenantId, i: &Input) {
    store
        .create_subject(&SubjectWrite {
            tenant,
            subject: &i.subject,
            records: &i.records,
            index: &i.index,
            consents: &[],
            audit: &i.audit,
            idempotency: None,
        })
        .unwrap();
}

/// Fills the database (commits unsynced, to be quick), returning the subject ids.
fn prefill(url: &str, tenant: &TenantId) -> Vec<SubjectId> {
    let store = PostgresStore::connect(&with_sync(url, false), PostgresOptions::default()).unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "bench".to_owned(),
            created_at: at(),
        })
        .unwrap();
    (0..SUBJECTS as u64)
        .map(|n| {
            let i = input(n);
            write(&store, tenant, &i);
            i.subject.id
        })
        .collect()
}

/// The URL with `synchronous_commit` set for every session it opens.
fn with_sync(url: &str, on: bool) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let value = if on { "on" } else { "off" };
    format!("{url}{sep}options=-c%20synchronous_commit%3D{value}")
}

fn bench(c: &mut Criterion) {
    let Some(admin) = std::env::var("CUSTOS_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("skipped: CUSTOS_TEST_DATABASE_URL not set");
        return;
    };
    let db = TempDatabase::create(&admin).unwrap();
    let tenant = TenantId::new("bench").unwrap();
    let ids = prefill(db.url(), &tenant);
    let modes = [("sync_commit_on", true), ("sync_commit_off", false)];
    let stores: Vec<_> = modes
        .iter()
        .map(|&(name, on)| {
            let url = with_sync(db.url(), on);
            (
                name,
                PostgresStore::connect(&url, PostgresOptions::default()).unwrap(),
            )
        })
        .collect();

    let mut group = c.benchmark_group("create_subject_10_records");
    let mut n = SUBJECTS as u64;
    for (name, store) in &stores {
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched(
                || {
                    n += 1;
                    input(n)
                },
                |i| write(store, &tenant, &i),
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("read_subject_with_audit");
    for (name, store) in &stores {
        let mut next = 0usize;
        let draft = audit("read", None);
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| {
                next = (next + 7919) % ids.len();
                let id = ids[next];
                let read = store.read_subject(&tenant, id, &[], &draft).unwrap();
                black_box(read);
            });
        });
    }
    group.finish();
    // The stores close their connections before the database is dropped.
    drop(stores);
    drop(db);
}

criterion_group!(benches, bench);
criterion_main!(benches);
