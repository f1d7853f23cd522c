//! Proof bundles: produced from a log, verified with the public key alone, and
//! refused after any one-bit change anywhere in the file.

use custos_audit::checkpoint::{Checkpoint, CheckpointSigner, SignedCheckpoint};
use custos_audit::entry::Entry;
use custos_audit::merkle::{MemoryTree, leaf_hash};
use custos_audit::proof::{Leaf, ProofBundle, ProofError, Verified, verify_bundle};

use crate::entry_bytes;

const SEED: [u8; 32] = [42; 32];

fn log(n: u64) -> (Vec<Vec<u8>>, MemoryTree) {
    let entries: Vec<Vec<u8>> = (1..=n).map(|seq| entry_bytes("acme", seq)).collect();
    let mut t = MemoryTree::new();
    entries.iter().for_each(|e| t.append_entry(e));
    (entries, t)
}

fn checkpoint(t: &MemoryTree, size: u64) -> SignedCheckpoint {
    CheckpointSigner::from_seed(&SEED)
        .sign(Checkpoint {
            tenant: "acme".into(),
            tree_size: size,
            root_hash: t.root_at(size).unwrap(),
            timestamp_micros: 1_700_000_000_123_456,
        })
        .unwrap()
}

fn inclusion(index: u64, size: u64) -> ProofBundle {
    let (entries, t) = log(size);
    ProofBundle::inclusion(
        &t,
        checkpoint(&t, size),
        index,
        Leaf::Entry(entries[index as usize].clone()),
    )
    .unwrap()
}

fn consistency(old: u64, size: u64) -> ProofBundle {
    let (_, t) = log(size);
    ProofBundle::consistency(&t, checkpoint(&t, size), old).unwrap()
}

fn public_key() -> custos_audit::checkpoint::PublicKey {
    CheckpointSigner::from_seed(&SEED).public_key()
}

#[test]
fn inclusion_bundle_verifies_and_shows_the_entry() {
    let b = inclusion(4, 7);
    let json = b.to_json();
    assert_eq!(ProofBundle::from_json(json.as_bytes()).unwrap(), b);
    match verify_bundle(json.as_bytes(), &public_key()).unwrap() {
        Verified::Inclusion {
            checkpoint,
            entry_index,
            leaf_hash: h,
            entry,
        } => {
            assert_eq!(checkpoint.tree_size, 7);
            assert_eq!(entry_index, 4);
            assert_eq!(h, leaf_hash(&entry_bytes("acme", 5)));
            let entry = entry.unwrap();
            assert_eq!((entry.seq, entry.subject.as_str()), (5, "sub_5"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn every_inclusion_of_a_small_log_verifies() {
    for size in 1..=9 {
        for index in 0..size {
            let json = inclusion(index, size).to_json();
            assert!(verify_bundle(json.as_bytes(), &public_key()).is_ok());
        }
    }
}

#[test]
fn leaf_hash_variant_verifies() {
    let (entries, t) = log(6);
    let b = ProofBundle::inclusion(&t, checkpoint(&t, 6), 2, Leaf::Hash(leaf_hash(&entries[2])))
        .unwrap();
    let json = b.to_json();
    assert!(json.contains("\"leaf_hash\""));
    assert!(!json.contains("\"entry\""));
    assert!(matches!(
        verify_bundle(json.as_bytes(), &public_key()),
        Ok(Verified::Inclusion { entry: None, .. })
    ));
}

#[test]
fn consistency_bundle_verifies() {
    for size in 1..=9 {
        for old in 1..=size {
            let json = consistency(old, size).to_json();
            match verify_bundle(json.as_bytes(), &public_key()) {
                Ok(Verified::Consistency { old_size, .. }) => assert_eq!(old_size, old),
                other => panic!("{old} → {size}: {other:?}"),
            }
        }
    }
}

/// Every single-bit change at every byte of the file: in a value it changes what
/// is claimed, in a key or structure it breaks the shape, in whitespace it makes
/// invalid JSON (a space or newline with one bit flipped is never JSON whitespace).
fn assert_every_bit_flip_fails(json: &str) {
    let pk = public_key();
    let bytes = json.as_bytes();
    assert!(verify_bundle(bytes, &pk).is_ok());
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut changed = bytes.to_vec();
            changed[i] ^= 1 << bit;
            if let Ok(v) = verify_bundle(&changed, &pk) {
                panic!(
                    "byte {i} bit {bit} ({:?} in ...{}...) still verifies: {v:?}",
                    bytes[i] as char,
                    String::from_utf8_lossy(
                        &bytes[i.saturating_sub(20)..(i + 20).min(bytes.len())]
                    )
                );
            }
        }
    }
}

#[test]
fn any_one_bit_change_to_an_inclusion_bundle_fails() {
    assert_every_bit_flip_fails(&inclusion(2, 5).to_json());
}

#[test]
fn any_one_bit_change_to_a_consistency_bundle_fails() {
    assert_every_bit_flip_fails(&consistency(3, 7).to_json());
}

#[test]
fn any_one_bit_change_to_a_leaf_hash_bundle_fails() {
    let (entries, t) = log(5);
    let b = ProofBundle::inclusion(&t, checkpoint(&t, 5), 3, Leaf::Hash(leaf_hash(&entries[3])))
        .unwrap();
    assert_every_bit_flip_fails(&b.to_json());
}

#[test]
fn wrong_key_fails() {
    let json = inclusion(1, 3).to_json();
    let other = CheckpointSigner::from_seed(&[1; 32]).public_key();
    assert!(matches!(
        verify_bundle(json.as_bytes(), &other),
        Err(ProofError::Checkpoint(_))
    ));
}

#[test]
fn entry_must_sit_at_its_seq_and_tenant() {
    // A validly proven leaf whose entry claims another position is refused.
    let (_, t) = log(4);
    let mut other = Entry::decode(&entry_bytes("acme", 2)).unwrap();
    other.seq = 3;
    let mut t2 = t.clone();
    t2.append_entry(&custos_audit::canonical(&other.fields()));
    let b = ProofBundle::inclusion(
        &t2,
        checkpoint(&t2, 5),
        4,
        Leaf::Entry(custos_audit::canonical(&other.fields())),
    )
    .unwrap();
    assert_eq!(
        verify_bundle(b.to_json().as_bytes(), &public_key()),
        Err(ProofError::EntrySeq { seq: 3, index: 4 })
    );

    let foreign = entry_bytes("globex", 5);
    let mut t3 = t.clone();
    t3.append_entry(&foreign);
    let b = ProofBundle::inclusion(&t3, checkpoint(&t3, 5), 4, Leaf::Entry(foreign)).unwrap();
    assert!(matches!(
        verify_bundle(b.to_json().as_bytes(), &public_key()),
        Err(ProofError::EntryTenant { .. })
    ));
}

#[test]
fn fields_of_the_other_kind_or_both_leaves_are_refused() {
    let json = inclusion(1, 3).to_json();
    let both = json.replace("\"entry\":", "\"leaf_hash\": \"AAAA\", \"entry\":");
    assert!(verify_bundle(both.as_bytes(), &public_key()).is_err());
    let extra = json.replace("\"entry_index\":", "\"old_size\": 1, \"entry_index\":");
    assert_eq!(
        verify_bundle(extra.as_bytes(), &public_key()),
        Err(ProofError::UnexpectedField {
            kind: "inclusion",
            field: "old_size"
        })
    );
    let unknown = json.replace("\"entry_index\":", "\"note\": \"hi\", \"entry_index\":");
    assert!(matches!(
        verify_bundle(unknown.as_bytes(), &public_key()),
        Err(ProofError::Json(_))
    ));
    let dup = json.replace("\"entry_index\":", "\"entry_index\": 0, \"entry_index\":");
    assert!(matches!(
        verify_bundle(dup.as_bytes(), &public_key()),
        Err(ProofError::Json(_))
    ));
}
