//! Audit-log throughput through the SQLite store, and verification speed
//! (DESIGN.md §10: append ≥ 100,000 entries/s batched and durable; verify
//! ≥ 1,000,000 entries/s). A plain timing program rather than criterion: one
//! run of the million-entry log takes seconds, not microseconds.
//!
//! ```text
//! cargo bench -p custos-core --bench audit_log            # 1,000,000 entries
//! cargo bench -p custos-core --bench audit_log -- 100000  # a smaller log
//! ```
//!
//! Each append goes through the store: the entry, its hash-chain link and its
//! Merkle leaf with the subtrees it completes, in the store's transaction.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used)]
// A benchmark measures wall time: the one place it is read outside custos_core::clock.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::path::PathBuf;
use std::time::Instant;

use custos_core::audit::{checkpoint, verify_chain, verify_log};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{
    AuditDraft, MerkleStore, Outcome, Store, SubjectId, Tenant, TenantId, Timestamp, Uuid,
};
use custos_store_sqlite::{SqliteOptions, SqliteStore};

fn at(n: u64) -> Timestamp {
    Timestamp::from_microsecond(1_750_000_000_000_000 + i64::try_from(n).unwrap()).unwrap()
}

/// A realistic read entry: key, purpose, subject, three categories.
fn draft(n: u64) -> AuditDraft {
    AuditDraft {
        at: at(n),
        actor: "key:ck_0123456789abcdef".to_owned(),
        key_id: Some("ck_0123456789abcdef".to_owned()),
        action: "read".to_owned(),
        purpose: Some("order_fulfilment".to_owned()),
        subject: Some(SubjectId(Uuid::from_u128(u128::from(n)))),
        categories: vec![
            "user.contact.email".to_owned(),
            "user.name".to_owned(),
            "user.address.postal".to_owned(),
        ],
        outcome: Outcome::Allow,
        reason: String::new(),
        request_id: Some(format!("req-{n:016x}")),
    }
}

fn store(name: &str, durable: bool) -> (SqliteStore, TenantId) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audit-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let store = SqliteStore::open(
        &path,
        SqliteOptions {
            durable_commits: durable,
            ..SqliteOptions::default()
        },
    )
    .unwrap();
    let tenant = TenantId::new("bench").unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Bench".into(),
            created_at: at(0),
        })
        .unwrap();
    (store, tenant)
}

fn rate(n: u64, secs: f64) -> String {
    let per_sec = n as f64 / secs;
    format!("{per_sec:>12.0}/s  ({n} in {secs:.3} s)")
}

fn main() {
    // `cargo bench` passes `--bench`; the first number, if any, is the log size.
    let total: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    println!(
        "append through SqliteStore (entry + chain + Merkle nodes, one transaction each call)"
    );
    for durable in [false, true] {
        let sync = if durable {
            "FULL (durable_commits)"
        } else {
            "NORMAL"
        };
        let (s, t) = store(&format!("append-{durable}"), durable);
        let batches = 100u64;
        let start = Instant::now();
        for b in 0..batches {
            let drafts: Vec<AuditDraft> = (0..1000).map(|i| draft(b * 1000 + i)).collect();
            s.append_audit_batch(&t, &drafts).unwrap();
        }
        println!(
            "  {sync:<24} 1,000 per transaction: {}",
            rate(batches * 1000, start.elapsed().as_secs_f64())
        );
        let singles = if durable { 1_000 } else { 5_000 };
        let start = Instant::now();
        for i in 0..singles {
            s.append_audit(&t, &draft(1_000_000 + i)).unwrap();
        }
        println!(
            "  {sync:<24} 1 per transaction:     {}",
            rate(singles, start.elapsed().as_secs_f64())
        );
    }

    println!("verification of a log of {total} entries");
    let (s, t) = store("verify", false);
    let start = Instant::now();
    let mut n = 0;
    while n < total {
        let k = (total - n).min(10_000);
        let drafts: Vec<AuditDraft> = (n..n + k).map(draft).collect();
        s.append_audit_batch(&t, &drafts).unwrap();
        n += k;
    }
    println!(
        "  built in {:.1} s (10,000 per transaction)",
        start.elapsed().as_secs_f64()
    );
    let keys = KeyRing::from_keyfile(&KeyFile::generate("2025-01-01T00:00:00Z").unwrap());
    let start = Instant::now();
    checkpoint(&s, &keys, &t, at(total + 1)).unwrap().unwrap();
    println!(
        "  checkpoint signed in {:.3} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let public = keys.audit_signer().unwrap().public_key();
    let start = Instant::now();
    let report = verify_log(&s, &t, &public).unwrap();
    assert_eq!(report.entries, total);
    println!(
        "  verify_log (chain + every node + checkpoints): {}",
        rate(total, start.elapsed().as_secs_f64())
    );
    let start = Instant::now();
    verify_chain(&s, &t).unwrap();
    println!(
        "  verify_chain (chain only, for comparison):    {}",
        rate(total, start.elapsed().as_secs_f64())
    );
    let start = Instant::now();
    let reps = 1000u64;
    for i in 0..reps {
        custos_core::audit::prove_inclusion(&s, &t, (i * 7919) % total).unwrap();
    }
    println!(
        "  inclusion proof: {:.1} µs each",
        start.elapsed().as_secs_f64() * 1e6 / reps as f64
    );
    let size = s.tree_size(&t).unwrap();
    println!("  tree size {size}");
}
