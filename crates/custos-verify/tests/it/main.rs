#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! custos-verify against bundles produced by custos-audit: they verify, and any
//! one-byte change to the file makes the verifier refuse it with exit status 2.

use std::path::Path;
use std::process::Command;

use custos_audit::checkpoint::{Checkpoint, CheckpointSigner, PublicKey};
use custos_audit::merkle::MemoryTree;
use custos_audit::proof::{Leaf, ProofBundle};
use custos_audit::{EntryFields, canonical};
use custos_verify::{Failure, run, utc};

const SEED: [u8; 32] = [7; 32];

fn entry(seq: u64) -> Vec<u8> {
    let cats = vec!["user.contact.email".to_owned(), "user.name".to_owned()];
    canonical(&EntryFields {
        tenant: "acme",
        seq,
        at_micros: 1_700_000_000_000_000 + seq as i64 * 1_000_000,
        actor: "key:support",
        key_id: "k_1",
        action: "read",
        purpose: "support",
        subject: &format!("sub_{seq}"),
        categories: &cats,
        decision: "allow",
        reason: "",
        request_id: "req-1",
    })
}

fn public_key() -> PublicKey {
    CheckpointSigner::from_seed(&SEED).public_key()
}

/// (inclusion bundle of entry index 2 in 5, consistency bundle 3 → 5)
fn bundles() -> (String, String) {
    let mut t = MemoryTree::new();
    let entries: Vec<Vec<u8>> = (1..=5).map(entry).collect();
    entries.iter().for_each(|e| t.append_entry(e));
    let signed = CheckpointSigner::from_seed(&SEED)
        .sign(Checkpoint {
            tenant: "acme".into(),
            tree_size: 5,
            root_hash: t.root(),
            timestamp_micros: 1_700_000_100_000_000,
        })
        .unwrap();
    let inc = ProofBundle::inclusion(&t, signed.clone(), 2, Leaf::Entry(entries[2].clone()))
        .unwrap()
        .to_json();
    let con = ProofBundle::consistency(&t, signed, 3).unwrap().to_json();
    (inc, con)
}

fn write(dir: &Path, name: &str, body: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p.to_str().unwrap().to_owned()
}

fn args(key: &str, bundle: &str) -> Vec<String> {
    vec!["--public-key".into(), key.into(), bundle.into()]
}

#[test]
fn produced_bundles_verify_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let (inc, con) = bundles();
    let key = public_key().to_base64();
    let out = run(&args(&key, &write(dir.path(), "inc.json", inc.as_bytes()))).unwrap();
    assert!(
        out.starts_with("VERIFIED: entry 2 is in the audit log of tenant \"acme\" (size 5)"),
        "{out}"
    );
    assert!(
        out.contains("seq 3, at 2023-11-14T22:13:23.000000Z"),
        "{out}"
    );
    assert!(
        out.contains("categories [user.contact.email, user.name]: allow"),
        "{out}"
    );
    let out = run(&args(&key, &write(dir.path(), "con.json", con.as_bytes()))).unwrap();
    assert!(
        out.starts_with(
            "VERIFIED: the audit log of tenant \"acme\" at size 3 is a prefix of the log at size 5"
        ),
        "{out}"
    );
}

#[test]
fn any_one_byte_change_fails() {
    let dir = tempfile::tempdir().unwrap();
    let key = public_key().to_base64();
    let (inc, con) = bundles();
    for json in [inc, con] {
        let path = write(dir.path(), "b.json", json.as_bytes());
        assert!(run(&args(&key, &path)).is_ok());
        let bytes = json.as_bytes();
        for i in 0..bytes.len() {
            // Two different replacements per byte: a bit flip and a neighbouring
            // printable character.
            for replacement in [
                bytes[i] ^ 0x01,
                if bytes[i] == b'~' { b'}' } else { bytes[i] + 1 },
            ] {
                let mut changed = bytes.to_vec();
                changed[i] = replacement;
                std::fs::write(&path, &changed).unwrap();
                match run(&args(&key, &path)) {
                    Err(Failure::Refused(_)) => {}
                    other => panic!(
                        "byte {i} {:?} → {:?}: {other:?}",
                        bytes[i] as char, replacement as char
                    ),
                }
            }
        }
    }
}

#[test]
fn key_from_a_file_and_wrong_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (inc, _) = bundles();
    let bundle = write(dir.path(), "inc.json", inc.as_bytes());
    let key_file = write(
        dir.path(),
        "log.pub",
        format!("{}\n", public_key().to_base64()).as_bytes(),
    );
    assert!(run(&args(&key_file, &bundle)).is_ok());

    let other = CheckpointSigner::from_seed(&[8; 32])
        .public_key()
        .to_base64();
    assert!(
        matches!(run(&args(&other, &bundle)), Err(Failure::Refused(m)) if m.contains("signature"))
    );
    assert!(matches!(
        run(&args("AAAA", &bundle)),
        Err(Failure::Usage(_))
    ));
    assert!(matches!(
        run(&args(&key_file, "/nonexistent/b.json")),
        Err(Failure::Io(_))
    ));
    assert!(matches!(run(&[bundle]), Err(Failure::Usage(_))));
}

#[test]
fn binary_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (inc, _) = bundles();
    let key = public_key().to_base64();
    let good = write(dir.path(), "good.json", inc.as_bytes());
    let bad = write(
        dir.path(),
        "bad.json",
        inc.replacen("\"entry_index\": 2", "\"entry_index\": 1", 1)
            .as_bytes(),
    );
    let bin = env!("CARGO_BIN_EXE_custos-verify");

    let ok = Command::new(bin).args(args(&key, &good)).output().unwrap();
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("VERIFIED: entry 2"));

    let refused = Command::new(bin).args(args(&key, &bad)).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("NOT VERIFIED"), "{err}");
    assert!(refused.stdout.is_empty());

    let usage = Command::new(bin).arg(&good).output().unwrap();
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("usage: custos-verify"));
}

#[test]
fn utc_rendering() {
    assert_eq!(utc(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(utc(-1), "1969-12-31T23:59:59.999999Z");
    assert_eq!(utc(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
    assert_eq!(utc(1_700_000_000_000_000), "2023-11-14T22:13:20.000000Z");
}
