//! The Merkle audit log end to end over SQLite: checkpoints signed as the log
//! grows, every proof verifying, and tampering with an entry, a node or a
//! checkpoint each caught by `verify_log`, naming what broke.

use custos_audit::proof::verify_bundle;
use custos_core::audit::{LogError, checkpoint, prove_consistency, prove_inclusion, verify_log};
use custos_crypto::{KeyFile, KeyRing};
use custos_store::{AuditDraft, MerkleStore, Outcome, Store, Tenant, TenantId, Timestamp};
use custos_store_sqlite::SqliteStore;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_750_000_000 + secs).unwrap()
}

fn draft(n: i64) -> AuditDraft {
    AuditDraft {
        at: at(n),
        actor: "key:k_1".to_owned(),
        key_id: Some("k_1".to_owned()),
        action: "read".to_owned(),
        purpose: Some("support".to_owned()),
        subject: None,
        categories: vec!["user.contact.email".to_owned()],
        outcome: Outcome::Allow,
        reason: format!("entry {n}"),
        request_id: None,
    }
}

struct Log {
    store: SqliteStore,
    keys: KeyRing,
    tenant: TenantId,
}

fn log(entries: i64) -> Log {
    let store = SqliteStore::open_temporary().unwrap();
    let tenant = TenantId::new("acme").unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Acme".into(),
            created_at: at(0),
        })
        .unwrap();
    for n in 1..=entries {
        store.append_audit(&tenant, &draft(n)).unwrap();
    }
    Log {
        store,
        keys: KeyRing::from_keyfile(&KeyFile::generate("2025-01-01T00:00:00Z").unwrap()),
        tenant,
    }
}

impl Log {
    fn public_key(&self) -> custos_audit::checkpoint::PublicKey {
        self.keys.audit_signer().unwrap().public_key()
    }

    fn verify(&self) -> Result<custos_core::audit::LogReport, LogError> {
        verify_log(&self.store, &self.tenant, &self.public_key())
    }

    fn sign(&self, secs: i64) -> Option<u64> {
        checkpoint(&self.store, &self.keys, &self.tenant, at(secs))
            .unwrap()
            .map(|c| c.checkpoint.tree_size)
    }

    fn tamper(&self, sql: &str) {
        let db = rusqlite::Connection::open(self.store.path()).unwrap();
        db.execute_batch(sql).unwrap();
    }
}

#[test]
fn checkpoints_follow_growth_and_every_proof_verifies() {
    let l = log(0);
    assert_eq!(l.sign(1), None, "an empty log has nothing to sign");
    for n in 1..=5 {
        l.store.append_audit(&l.tenant, &draft(n)).unwrap();
    }
    assert_eq!(l.sign(2), Some(5));
    assert_eq!(l.sign(3), None, "no growth, no new checkpoint");
    l.store
        .append_audit_batch(&l.tenant, &(6..=37).map(draft).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(l.sign(4), Some(37));

    let report = l.verify().unwrap();
    assert_eq!(
        (
            report.entries,
            report.tree_size,
            report.checkpoints,
            report.checkpointed
        ),
        (37, 37, 2, 37)
    );
    let key = l.public_key();
    for index in 0..37 {
        let bundle = prove_inclusion(&l.store, &l.tenant, index).unwrap();
        let json = bundle.to_json();
        verify_bundle(json.as_bytes(), &key).unwrap_or_else(|e| panic!("entry {index}: {e}"));
    }
    for from in 1..=37 {
        let bundle = prove_consistency(&l.store, &l.tenant, from).unwrap();
        verify_bundle(bundle.to_json().as_bytes(), &key)
            .unwrap_or_else(|e| panic!("from {from}: {e}"));
    }
    // The older checkpoint's root is the consistency proof's old root.
    let first = &l.store.checkpoints(&l.tenant).unwrap()[0];
    match prove_consistency(&l.store, &l.tenant, 5).unwrap() {
        custos_audit::proof::ProofBundle::Consistency { old_root, .. } => {
            assert_eq!(old_root, first.checkpoint.root_hash);
        }
        other => panic!("{other:?}"),
    }
    // Out of range, and a key that did not sign.
    assert!(prove_inclusion(&l.store, &l.tenant, 37).is_err());
    assert!(prove_consistency(&l.store, &l.tenant, 0).is_err());
    assert!(prove_consistency(&l.store, &l.tenant, 38).is_err());
    let other = KeyRing::from_keyfile(&KeyFile::generate("2025-01-01T00:00:00Z").unwrap());
    let wrong = other.audit_signer().unwrap().public_key();
    let json = prove_inclusion(&l.store, &l.tenant, 3).unwrap().to_json();
    assert!(verify_bundle(json.as_bytes(), &wrong).is_err());
    assert!(matches!(
        verify_log(&l.store, &l.tenant, &wrong),
        Err(LogError::Checkpoint { size: 5, .. })
    ));
}

#[test]
fn no_checkpoint_no_proof() {
    let l = log(3);
    assert!(prove_inclusion(&l.store, &l.tenant, 0).is_err());
    assert_eq!(l.verify().unwrap().checkpoints, 0);
}

#[test]
fn an_altered_entry_is_caught_by_the_chain() {
    let l = log(10);
    l.sign(20);
    l.tamper(
        "DROP TRIGGER audit_log_no_update; \
         UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 4;",
    );
    let err = l.verify().unwrap_err();
    assert!(
        matches!(
            err,
            LogError::Chain(custos_audit::ChainError::Altered { seq: 4 })
        ),
        "{err}"
    );
}

#[test]
fn an_entry_rewritten_with_a_fixed_up_chain_is_caught_by_the_tree() {
    // Someone rewrites entry 4 and recomputes every chain hash after it: the
    // chain verifies, the stored leaf and the signed checkpoint do not.
    let l = log(6);
    l.sign(20);
    let db = rusqlite::Connection::open(l.store.path()).unwrap();
    db.execute_batch(
        "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET reason = 'forged' WHERE seq = 4;",
    )
    .unwrap();
    let mut prev = [0u8; 32];
    for e in l.store.audit_entries(&l.tenant, 1, 100).unwrap() {
        let subject = e.draft.subject.map(|s| s.to_string()).unwrap_or_default();
        let hash = custos_audit::chain_hash(&prev, &e.hash_fields(&l.tenant, &subject));
        db.execute(
            "UPDATE audit_log SET prev_hash = ?1, hash = ?2 WHERE tenant = 'acme' AND seq = ?3",
            rusqlite::params![prev.as_slice(), hash.as_slice(), e.seq as i64],
        )
        .unwrap();
        prev = hash;
    }
    let err = l.verify().unwrap_err();
    assert!(
        matches!(err, LogError::NodeMismatch { level: 0, index: 3 }),
        "{err}"
    );
    // With the nodes forged too, the signed root still gives it away.
    db.execute_batch(
        "DROP TRIGGER audit_nodes_no_delete; DELETE FROM audit_nodes; \
         DELETE FROM audit_tree_heads;",
    )
    .unwrap();
    assert_eq!(l.store.catch_up_tree(&l.tenant).unwrap(), 6);
    let err = l.verify().unwrap_err();
    assert!(
        matches!(err, LogError::Checkpoint { size: 6, ref reason } if reason.contains("root")),
        "{err}"
    );
}

#[test]
fn an_altered_node_is_caught() {
    let l = log(8);
    l.tamper(
        "DROP TRIGGER audit_nodes_no_update; \
         UPDATE audit_nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 1;",
    );
    let err = l.verify().unwrap_err();
    assert!(
        matches!(err, LogError::NodeMismatch { level: 2, index: 1 }),
        "{err}"
    );
}

#[test]
fn a_missing_or_extra_node_is_caught() {
    let l = log(8);
    l.tamper(
        "DROP TRIGGER audit_nodes_no_delete; DELETE FROM audit_nodes WHERE level = 1 AND idx = 2;",
    );
    assert!(matches!(
        l.verify().unwrap_err(),
        LogError::NodeMissing { level: 1, index: 2 }
    ));
    let l = log(8);
    l.tamper(
        "INSERT INTO audit_nodes (tenant, level, idx, hash) VALUES ('acme', 0, 8, zeroblob(32));",
    );
    assert!(matches!(
        l.verify().unwrap_err(),
        LogError::NodeBeyondTree {
            level: 0,
            index: 8,
            size: 8
        }
    ));
}

#[test]
fn an_altered_checkpoint_is_caught() {
    for (column, value) in [
        ("root_hash", "zeroblob(32)"),
        ("timestamp", "timestamp + 1"),
        ("signature", "zeroblob(64)"),
        ("tree_size", "4"),
    ] {
        let l = log(5);
        l.sign(20);
        l.tamper(&format!(
            "DROP TRIGGER audit_checkpoints_no_update; \
             UPDATE audit_checkpoints SET {column} = {value};"
        ));
        let err = l.verify().unwrap_err();
        assert!(
            matches!(err, LogError::Checkpoint { .. }),
            "{column}: {err}"
        );
    }
}
