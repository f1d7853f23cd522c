//! Seal, open and blind-index throughput (DESIGN.md §10 budgets one write of a subject at
//! ≥ 20,000/s and one read of ~10 fields at ≥ 50,000/s per core).
//!
//! `cargo bench -p custos-crypto -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_crypto::{
    Aad, Dek, KeyFile, KeyRing, blind_index, blind_index_email, open, rewrap, seal, unwrap_dek,
    wrap_dek,
};

fn crypto(c: &mut Criterion) {
    let key_file = KeyFile::generate("2025-01-01T00:00:00Z").unwrap();
    let ring = KeyRing::from_keyfile(&key_file);
    let dek = Dek::generate().unwrap();
    let aad = Aad::new(
        "tenant-1",
        "0190f5b2-8f6e-7c3a-9d1e-3b5c7a9e1f20",
        "email",
        "rec-42",
    )
    .unwrap();
    let value = [0x61u8; 64];
    let sealed = seal(&dek, &aad, &value).unwrap();

    let mut group = c.benchmark_group("value_64B");
    group.throughput(Throughput::Elements(1));
    group.bench_function("seal", |b| {
        b.iter(|| seal(black_box(&dek), black_box(&aad), black_box(&value)).unwrap());
    });
    group.bench_function("open", |b| {
        b.iter(|| open(black_box(&dek), black_box(&aad), black_box(&sealed)).unwrap());
    });
    // Each seal draws a fresh 12-byte nonce from the OS (getrandom); this shows that share.
    group.bench_function("nonce_12B_from_os", |b| {
        let rng = ring::rand::SystemRandom::new();
        let mut nonce = [0u8; 12];
        b.iter(|| ring::rand::SecureRandom::fill(&rng, black_box(&mut nonce)).unwrap());
    });
    group.finish();

    let index_key = ring.blind_index_key("tenant-1", "email").unwrap();
    let mut group = c.benchmark_group("blind_index");
    group.throughput(Throughput::Elements(1));
    group.bench_function("blind_index", |b| {
        b.iter(|| blind_index(black_box(&index_key), black_box("alice@example.com")));
    });
    group.bench_function("blind_index_email", |b| {
        b.iter(|| blind_index_email(black_box(&index_key), black_box(" Alice@Example.COM ")));
    });
    group.finish();

    let subject = Aad::subject("tenant-1", "0190f5b2-8f6e-7c3a-9d1e-3b5c7a9e1f20").unwrap();
    let kek = ring.current_kek("tenant-1").unwrap();
    let wrapped = wrap_dek(&kek, &dek, &subject).unwrap();
    let mut group = c.benchmark_group("keys");
    group.bench_function("derive_kek", |b| {
        b.iter(|| ring.current_kek(black_box("tenant-1")).unwrap());
    });
    group.bench_function("unwrap_dek", |b| {
        b.iter(|| unwrap_dek(black_box(&kek), black_box(&wrapped), black_box(&subject)).unwrap());
    });
    group.bench_function("rewrap", |b| {
        b.iter(|| {
            rewrap(
                black_box(&kek),
                black_box(&kek),
                black_box(&wrapped),
                &subject,
            )
            .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, crypto);
criterion_main!(benches);
