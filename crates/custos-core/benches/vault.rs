//! In-process vault benchmarks (DESIGN.md §10): a write of one subject with ten
//! fields (validate, encrypt, blind index, audit) and a purpose-bound read of one
//! subject among 10,000 (decrypt, audit), on the SQLite store.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod common;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use custos_core::vault::RequestCtx;
use custos_store_sqlite::{SqliteOptions, SqliteStore};

fn store(durable: bool) -> Arc<SqliteStore> {
    let options = SqliteOptions {
        durable_commits: durable,
        ..SqliteOptions::default()
    };
    Arc::new(SqliteStore::open_temporary_with(options).unwrap())
}

fn bench(c: &mut Criterion) {
    let (vault, actor) = common::vault_over(store(false));
    common::write_and_read(c, "vault", &vault, &actor);

    let (vault, actor) = common::vault_over(store(true));
    let ctx = RequestCtx::default();
    let mut j = 0;
    c.bench_function("vault/write_subject_10_fields_durable", |b| {
        b.iter(|| {
            j += 1;
            vault
                .create_subject(&actor, &common::ten_fields(j), &ctx)
                .unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
