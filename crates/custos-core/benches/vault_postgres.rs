//! The vault benchmark of `vault.rs` on PostgreSQL: a write of one subject with
//! ten fields and a purpose-bound read of one subject among 10,000, each with
//! its audit entry, against a temporary database made through
//! `CUSTOS_TEST_DATABASE_URL` (skipped without it). docs/benchmarks.md compares
//! both backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    missing_docs
)]

mod common;

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use custos_store_postgres::{PostgresOptions, PostgresStore};

fn bench(c: &mut Criterion) {
    let Ok(url) = std::env::var("CUSTOS_TEST_DATABASE_URL") else {
        println!("skipped: CUSTOS_TEST_DATABASE_URL not set (vault benchmark on PostgreSQL)");
        return;
    };
    let store =
        Arc::new(PostgresStore::connect_temporary(&url, PostgresOptions::default()).unwrap());
    let (vault, actor) = common::vault_over(store);
    common::write_and_read(c, "vault_postgres", &vault, &actor);
}

criterion_group!(benches, bench);
criterion_main!(benches);
