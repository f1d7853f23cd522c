//! The audit log's Merkle tree and checkpoints (`MerkleStore`) on SQLite.

use custos_store::{AuditDraft, MerkleStore, Outcome, Store, Tenant, TenantId, Timestamp};
use custos_store_sqlite::SqliteStore;

custos_store::merkle_conformance_tests!(SqliteStore::open_temporary().unwrap());

fn draft(n: i64) -> AuditDraft {
    AuditDraft {
        at: Timestamp::from_second(1_750_000_000 + n).unwrap(),
        actor: "operator".to_owned(),
        key_id: None,
        action: "test".to_owned(),
        purpose: None,
        subject: None,
        categories: vec![],
        outcome: Outcome::Allow,
        reason: String::new(),
        request_id: None,
    }
}

/// A log written before the tree existed (here: the tree's rows removed) is
/// added to the tree by the next append, or by `catch_up_tree`, and the result
/// is the tree the appends would have built.
#[test]
fn tree_catches_up_with_a_log_written_before_it() {
    let store = SqliteStore::open_temporary().unwrap();
    let tenant = TenantId::new("old").unwrap();
    store
        .create_tenant(&Tenant {
            id: tenant.clone(),
            name: "Old".into(),
            created_at: Timestamp::from_second(1_750_000_000).unwrap(),
        })
        .unwrap();
    let drafts: Vec<AuditDraft> = (1..=13).map(draft).collect();
    store.append_audit_batch(&tenant, &drafts).unwrap();
    let expected: Vec<_> = store.nodes(&tenant, 0, 0, 100).unwrap();
    let root = |s: &SqliteStore| {
        custos_audit::merkle::root_at(
            &custos_store::StoredTree {
                store: s,
                tenant: &tenant,
            },
            s.tree_size(&tenant).unwrap(),
        )
        .unwrap()
    };
    let full_root = root(&store);

    let forget = || {
        let db = rusqlite::Connection::open(store.path()).unwrap();
        db.execute_batch(
            "DROP TRIGGER IF EXISTS audit_nodes_no_delete; DELETE FROM audit_nodes; \
             DELETE FROM audit_tree_heads;",
        )
        .unwrap();
    };
    forget();
    assert_eq!(store.tree_size(&tenant).unwrap(), 0);
    assert_eq!(store.catch_up_tree(&tenant).unwrap(), 13);
    assert_eq!(store.nodes(&tenant, 0, 0, 100).unwrap(), expected);
    assert_eq!(root(&store), full_root);

    forget();
    store.append_audit(&tenant, &draft(14)).unwrap();
    assert_eq!(store.tree_size(&tenant).unwrap(), 14);
    assert_eq!(store.nodes(&tenant, 0, 0, 13).unwrap(), expected);
}
