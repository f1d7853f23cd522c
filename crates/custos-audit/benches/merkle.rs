//! Merkle-log throughput over a 1,000,000-entry tenant log (DESIGN.md §10 budgets
//! audit append at ≥ 100,000/s and verification at ≥ 1,000,000 entries/s).
//!
//! `cargo bench -p custos-audit -- --warm-up-time 1 --measurement-time 3`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_audit::checkpoint::{self, Checkpoint, CheckpointSigner};
use custos_audit::merkle::{
    CompactTree, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root,
    verify_consistency, verify_inclusion,
};
use custos_audit::{EntryFields, canonical};

const N: u64 = 1_000_000;

/// Canonical bytes of realistic entries (~140 bytes: ids, one purpose, two categories).
fn entries() -> Vec<Vec<u8>> {
    let cats = vec!["user.contact.email".to_owned(), "user.name".to_owned()];
    (1..=N)
        .map(|seq| {
            canonical(&EntryFields {
                tenant: "tenant-1",
                seq,
                at_micros: 1_700_000_000_000_000 + seq as i64,
                actor: "key:support-desk",
                key_id: "k_01J8Z3",
                action: "read",
                purpose: "customer_support",
                subject: &format!("0190f5b2-8f6e-7c3a-9d1e-{seq:012}"),
                categories: &cats,
                decision: "allow",
                reason: "",
                request_id: "req-0190f5b2",
            })
        })
        .collect()
}

fn merkle(c: &mut Criterion) {
    let entries = entries();
    let leaves: Vec<_> = entries.iter().map(|e| leaf_hash(e)).collect();
    let mut tree = MemoryTree::new();
    leaves.iter().for_each(|h| tree.append(*h));
    let signer = CheckpointSigner::from_seed(&[3; 32]);
    let signed = signer
        .sign(Checkpoint {
            tenant: "tenant-1".into(),
            tree_size: N,
            root_hash: tree.root(),
            timestamp_micros: 1_700_000_000_000_000,
        })
        .unwrap();
    let public_key = signer.public_key();

    let mut group = c.benchmark_group("log_1M");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N));
    // Leaf hash of each canonical entry, then the O(1)-amortised append that also
    // keeps every completed node (what a store would persist for O(log n) proofs).
    group.bench_function("append_entries_storing_nodes", |b| {
        b.iter(|| {
            let mut t = MemoryTree::new();
            for e in &entries {
                t.append_entry(e);
            }
            black_box(t.root())
        });
    });
    // The same with only the right edge kept (no node storage).
    group.bench_function("append_leaves_compact", |b| {
        b.iter(|| {
            let mut t = CompactTree::new();
            for h in &leaves {
                t.append(*h);
            }
            black_box(t.root())
        });
    });
    group.bench_function("root_recursive_from_leaf_hashes", |b| {
        b.iter(|| black_box(root(black_box(&leaves))));
    });
    // `custos audit verify`'s core: rehash every entry, rebuild the root, check it
    // against the signed checkpoint.
    group.bench_function("verify_log_from_entries", |b| {
        b.iter(|| {
            let mut t = CompactTree::new();
            for e in &entries {
                t.append(leaf_hash(e));
            }
            checkpoint::verify(&public_key, &signed).unwrap();
            assert_eq!(t.root(), signed.checkpoint.root_hash);
        });
    });
    group.finish();

    let mut group = c.benchmark_group("proof_1M");
    group.throughput(Throughput::Elements(1));
    let root_1m = tree.root();
    let old_root = tree.root_at(654_321).unwrap();
    let path = inclusion_proof(&tree, 123_456, N).unwrap();
    let cproof = consistency_proof(&tree, 654_321, N).unwrap();
    group.bench_function("compact_root", |b| {
        b.iter(|| black_box(tree.compact().root()));
    });
    group.bench_function("inclusion_prove", |b| {
        b.iter(|| inclusion_proof(&tree, black_box(123_456), N).unwrap());
    });
    group.bench_function("inclusion_verify", |b| {
        b.iter(|| {
            verify_inclusion(black_box(123_456), N, &leaves[123_456], &path, &root_1m).unwrap()
        });
    });
    group.bench_function("consistency_prove", |b| {
        b.iter(|| consistency_proof(&tree, black_box(654_321), N).unwrap());
    });
    group.bench_function("consistency_verify", |b| {
        b.iter(|| verify_consistency(black_box(654_321), N, &old_root, &root_1m, &cproof).unwrap());
    });
    group.bench_function("checkpoint_sign", |b| {
        b.iter(|| signer.sign(black_box(signed.checkpoint.clone())).unwrap());
    });
    group.bench_function("checkpoint_verify", |b| {
        b.iter(|| checkpoint::verify(&public_key, black_box(&signed)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, merkle);
criterion_main!(benches);
